"""Prompt-injection guard: sentences inside a source that give orders to the assistant.

The prompt already says sources are data, not instructions, but a small model obeys a loud enough
order anyway (the 1.5B default answered "PWNED PWNED [1]" to a hostile memo, and the citation check
accepted it because the words are verbatim in the source). So such sentences are withheld from the
prompt and never accepted as support or as an extractive answer. Our own rules, because no model that
detects injections ships in a PyPI package; the patterns are narrow to keep ordinary prose intact.
"""

from __future__ import annotations

import re

from qa_bot.text import sentence_spans

WITHHELD = "[an instruction to the assistant was withheld here]"

_INSTRUCTION = re.compile(
    r"""
    \b(?:ignore|disregard|forget|override|bypass)\s+(?:all\s+|any\s+|every\s+)?(?:of\s+)?(?:the\s+|your\s+|my\s+|these\s+)?
        (?:previous\s+|prior\s+|above\s+|earlier\s+|preceding\s+|former\s+|other\s+|system\s+)?
        (?:instructions?|rules|directions|prompts?|guidelines|guardrails)\b
    | \b(?:print|reveal|show|output|repeat|display|leak|disclose|dump)\s+(?:me\s+)?(?:your|the)\s+
        (?:full\s+|entire\s+|complete\s+|hidden\s+|secret\s+|original\s+|initial\s+)?(?:system\s+prompt|prompt|instructions)\b
    | \b(?:do\s+not|don'?t|never)\s+cite\b
    | \b(?:reply|respond|answer)\s+only\s+with\b
    | \byou\s+are\s+now\s+(?:in\s+)?(?:developer\s+mode|dan\b|jailbroken|unrestricted|free\s+of)
    | \b(?:note|notice|message|instructions?)\s+(?:to|for)\s+(?:the\s+)?(?:assistant|ai|model|llm|chatbot|language\s+model)\b
    """,
    re.IGNORECASE | re.VERBOSE,
)


def is_instruction(sentence: str) -> bool:
    """True when a source sentence addresses the assistant with an order."""
    return _INSTRUCTION.search(sentence) is not None


def instruction_spans(text: str) -> list[tuple[int, int]]:
    return [(s, e) for s, e in sentence_spans(text) if is_instruction(text[s:e])]


def redact(text: str) -> str:
    """The text with every instruction sentence replaced by a short notice (for the prompt only)."""
    spans = instruction_spans(text)
    if not spans:
        return text
    parts, pos = [], 0
    for s, e in spans:
        parts += [text[pos:s], WITHHELD]
        pos = e
    parts.append(text[pos:])
    return "".join(parts)
