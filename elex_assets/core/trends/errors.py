"""What can go wrong with Google Trends, by what should happen next.

* :class:`TrendsUnavailable` (alias ``TrendsRateLimited``): 5xx or network
  faults still there after the client's bounded backoff: transient, a later
  try may work (Dagster's retry policy may try again).
* :class:`TrendsBlocked`: Google refuses this client (429, captcha redirect) or
  a cool-down from an earlier refusal is running: never retried, the next
  scheduled run after the cool-down tries again.
* :class:`TrendsResponseError`: an answer we cannot use (deterministic).
* :class:`TrendsMismatch`: an answer about something other than what was asked.
* :class:`TrendsBudgetExceeded`: the official API's daily request budget is spent;
  nothing is sent until the next UTC day.
"""

from __future__ import annotations


class TrendsError(RuntimeError):
    """Google Trends could not give an answer we can use."""

    transient = False


class TrendsUnavailable(TrendsError):
    """Still failing (5xx, network) after the bounded backoff; worth trying later."""

    transient = True


TrendsRateLimited = TrendsUnavailable  # the name earlier code and tests use


class TrendsBlocked(TrendsError):
    """Google refuses this client (429 or captcha); a cool-down is running."""


class TrendsResponseError(TrendsError):
    """An answer that is not what Google Trends normally sends."""


class TrendsMismatch(TrendsResponseError):
    """An answer about other keywords, another geography or another window than asked."""


class TrendsConfigError(TrendsError):
    """A Trends setting or credential that cannot work."""


class TrendsBudgetExceeded(TrendsError):
    """The official API's daily request budget is spent: nothing was sent (not retried)."""
