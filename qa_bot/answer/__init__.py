"""Answer: what the model is given and what code checks afterwards. The planner decides between whole
documents and passages; prompts are files under prompts/; citations, entities and anchors check every
sentence against the passage it cites; guard redacts instructions hidden in sources; focus picks the
sentences a question is about. Nothing here knows how the answer reaches a user."""
