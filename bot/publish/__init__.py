"""The publishing engine: plan (what is due where), recover (after crashes), deliver (claim,
send, record)."""

from bot.publish.deliver import Publisher
from bot.publish.engine import PassResult, Stopping

__all__ = ["PassResult", "Publisher", "Stopping"]
