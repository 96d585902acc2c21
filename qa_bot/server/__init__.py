"""Server: `qa-bot serve`. The Gradio app (layout and assets), the chat and session handlers, the
document service (uploads, removal, the source viewer), rendering of answers and sources, saved
conversations and login. A thin layer: every answer comes from `Bot`, every file from the ingest
pipeline."""
