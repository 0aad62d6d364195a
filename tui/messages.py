"""Textual messages for node events: the bridge's wake-up, and the coalesced "what changed" sent to the
screen."""

from __future__ import annotations

from textual.message import Message


class NodeEventsReady(Message):
    """Posted (from a node thread) when the bridge's buffer goes from empty to non-empty.

    At most one is ever pending: the bridge posts again only after the app drained the buffer, and
    a newer one replaces an older one still in the queue, so a flood of events costs one message.
    """

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, NodeEventsReady)


class ModelChanged(Message):
    """Sent to the visible screen at most ~10 times a second with the topics that changed."""

    def __init__(self, topics: frozenset[str]) -> None:
        super().__init__()
        self.topics = topics
