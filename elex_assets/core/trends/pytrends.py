"""pytrends' payload building on elex's transport (:class:`BoundaryTrendReq`).

In a module of its own because pytrends imports pandas (about 1.7 s): only a run
that calls Google Trends' web backend imports it, through
:attr:`elex_assets.core.trends.client.TrendsClient.req`, not every run that loads
the definitions.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pytrends.request import TrendReq

from elex_assets.core.trends.errors import TrendsResponseError

if TYPE_CHECKING:
    from elex_assets.core.trends.client import Transport


class BoundaryTrendReq(TrendReq):
    """pytrends' payload building, on our transport; keeps the explore answer for checks."""

    def __init__(self, transport: Transport, hl: str, geo: str) -> None:
        self._transport = transport
        self.explore_answer: Any = None
        # retries/backoff_factor stay 0: pytrends' Retry crashes on urllib3 2.
        super().__init__(hl=hl, tz=0, geo=geo, retries=0, backoff_factor=0)

    def GetGoogleCookie(self) -> dict[str, str]:  # noqa: N802 (pytrends' name)
        return self._transport.cookie(self.hl[-2:])

    def _get_data(self, url: str, method: str = "get", trim_chars: int = 0, **kwargs: Any) -> Any:
        answer = self._transport.get_json(url, method, trim_chars, **kwargs)
        if url == TrendReq.GENERAL_URL:
            self.explore_answer = answer
            if not isinstance(answer, dict) or not isinstance(answer.get("widgets"), list):
                raise TrendsResponseError("Google Trends' explore answer has no widgets")
        return answer
