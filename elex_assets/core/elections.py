"""Elections elex knows about: round dates and the campaign window.

The daily partitions of every collecting asset start at ``campaign_start``;
they end a week after the second round, so late coverage is still collected.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

ELECTIONS_SUPPORTED = ("2017", "2022", "2027")
DEFAULT_ELECTION = "2027"


@dataclass(frozen=True)
class Election:
    id: str
    first_round: date
    second_round: date
    campaign_start: date
    provisional: bool = False

    @property
    def campaign_end(self) -> date:
        """Last day collected: a week after the second round."""
        return self.second_round + timedelta(days=7)

    def to_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "first_round": self.first_round.isoformat(),
            "second_round": self.second_round.isoformat(),
            "campaign_start": self.campaign_start.isoformat(),
            "campaign_end": self.campaign_end.isoformat(),
            "provisional": self.provisional,
        }


def election_from_dict(election_id: str, raw: dict[str, object]) -> Election:
    return Election(
        id=election_id,
        first_round=date.fromisoformat(str(raw["first_round"])),
        second_round=date.fromisoformat(str(raw["second_round"])),
        campaign_start=date.fromisoformat(str(raw["campaign_start"])),
        provisional=bool(raw.get("provisional", False)),
    )
