"""Deterministic synthetic posts on X for the sandbox API, the demo, tests and benchmarks.

Posts are computed per time slot (one minute) from ``(seed, slot)`` alone, so any
window is generated without generating the rest of the day, and the same window
always yields the same posts. Ids are snowflakes: ``((ms - epoch) << 22) | seq``,
increasing with time. Volume follows a daily rhythm (quiet nights, evening peak)
with spikes on debate and election days. Posts name the registry's candidates in
French and English (full name, surname, folded or upper-case spellings, handles,
hashtags); a share are replies, quotes and retweets whose referenced post is
generated from its own id and returned in ``includes.tweets``.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any

from elex_assets.core.elections import Election
from elex_assets.core.registry import Candidate
from elex_assets.core.registry import fold as _slow_fold

# Fast accent folding for generated text (Latin-1 and Latin Extended-A cover it).
_FOLD_TABLE = {c: _slow_fold(chr(c)) for c in range(0xC0, 0x180)}


def fold(text: str) -> str:
    return text.translate(_FOLD_TABLE).lower()

TWITTER_EPOCH_MS = 1288834974657
SLOT_MS = 60_000
DAY_MS = 86_400_000
# Relative volume by UTC hour (France is UTC+1/+2): quiet nights, evening peak.
HOURLY = (
    0.25, 0.15, 0.1, 0.1, 0.15, 0.35, 0.7, 1.1, 1.4, 1.5, 1.4, 1.4,
    1.5, 1.4, 1.3, 1.3, 1.4, 1.6, 1.8, 2.0, 2.1, 1.8, 1.1, 0.6,
)
_HOURLY_MEAN = sum(HOURLY) / 24
REF_SEQ_BASE = 1 << 21  # referenced posts use the upper half of the sequence bits
REF_POOL = 2000  # referenced posts per day

FIRST = ("Camille", "Lucas", "Léa", "Hugo", "Chloé", "Louis", "Inès", "Jules", "Manon",
         "Noé", "Sarah", "Tom", "Emma", "Nathan", "Zoé", "Paul", "Alice", "Yanis",
         "John", "Mary", "Anna", "David", "Laura", "Peter")
LAST = ("Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand",
        "Leroy", "Moreau", "Simon", "Laurent", "Lefèvre", "Michel", "Garcia", "Smith",
        "Brown", "Müller", "Rossi", "Fournier")
PLACES = ("Paris, France", "Lyon", "Marseille", "Toulouse", "Lille", "Bordeaux", "Nantes",
          "Montréal", "Bruxelles", "Genève", "London", "New York", "", "", "", "France")
MEDIA = ("France 2", "TF1", "BFMTV", "France Inter", "RTL", "LCI", "franceinfo")
SITES = ("https://www.lemonde.fr/politique/article/{n}.html",
         "https://www.liberation.fr/politique/{n}/",
         "https://www.francetvinfo.fr/elections/{n}.html",
         "https://www.lefigaro.fr/elections/{n}",
         "https://www.bbc.com/news/world-europe-{n}",
         "https://youtu.be/{n}")

FR_TEMPLATES = (
    "{who} était ce soir sur {media}, franchement pas convaincu",
    "Le programme de {who} sur les retraites ne tient pas la route {tag}",
    "Je voterai pour {who} au premier tour, c'est décidé {tag}",
    "Sondage du jour : {who} progresse encore, {who2} recule {url}",
    "Meeting de {who} à {place} : la salle était pleine {tag}",
    "Quelqu'un a compris la position de {who} sur l'Europe ? {mention}",
    "{who} répond à {who2} sur le pouvoir d'achat {url}",
    "Débat : {who} face à {who2}, qui a gagné ? {tag}",
    "Encore une polémique autour de {who}... {url}",
    "Bravo {who} pour cette intervention sur l'écologie {mention}",
)
EN_TEMPLATES = (
    "{who} is leading the latest French election poll {url}",
    "Watching {who} on {media} tonight, interesting take on Europe {tag}",
    "French presidential race: {who} vs {who2}, thoughts? {tag}",
    "Can {who} really win the French election? {url}",
    "Great rally by {who} in {place} today {mention}",
    "{who} just answered {who2} on energy prices {url}",
)
OTHER_TEMPLATES = {
    "es": ("Elecciones en Francia: {who} sube en las encuestas {url}",),
    "de": ("Frankreich-Wahl: {who} liegt vorne {url}",),
}
QUOTE_COMMENTS = {
    "fr": ("Exactement.", "N'importe quoi", "À lire absolument", "Voilà, tout est dit",
           "Hallucinant {tag}"),
    "en": ("Exactly this.", "Worth a read", "Wow", "This is huge {tag}"),
}
REPLY_TEXTS = {
    "fr": ("Totalement d'accord", "Et {who} dans tout ça ?", "Source ?", "Merci {who} !"),
    "en": ("Totally agree", "What about {who}?", "Source?", "Thanks {who}!"),
}
NOISE = ("Quelle belle journée à {place}", "Match ce soir, allez les Bleus !",
         "Nice weather in {place} today")


def snowflake(ms: int, seq: int) -> int:
    return ((ms - TWITTER_EPOCH_MS) << 22) | seq


def snowflake_ms(post_id: int) -> int:
    return (post_id >> 22) + TWITTER_EPOCH_MS


def id_at(when: datetime) -> int:
    """Smallest snowflake id created at or after ``when``."""
    return snowflake(int(when.timestamp() * 1000), 0)


def iso_ms(ms: int) -> str:
    """X's timestamp format: ``2022-04-10T12:34:56.000Z``."""
    dt = datetime.fromtimestamp(ms / 1000, tz=UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def _rng(*parts: object) -> random.Random:
    digest = hashlib.blake2b(repr(parts).encode(), digest_size=8).digest()
    return random.Random(int.from_bytes(digest, "big"))


def _handle_id(handle: str) -> str:
    return str(int.from_bytes(hashlib.blake2b(handle.lower().encode(), digest_size=6).digest()))


@dataclass
class Post:
    """A generated post with everything the server needs to filter and expand it."""

    tweet: dict[str, Any]
    author: dict[str, Any]
    ref: Post | None = None
    ref_type: str | None = None
    search_text: str = ""  # folded text (+ referenced text for quotes and retweets)
    mentions: frozenset[str] = field(default_factory=frozenset)

    @property
    def id(self) -> int:
        return int(self.tweet["id"])

    @property
    def lang(self) -> str:
        return self.tweet["lang"]

    @property
    def username(self) -> str:
        return self.author["username"]


class XGenerator:
    """Posts of an election's candidates, computed per minute from ``(seed, slot)``."""

    def __init__(
        self,
        candidates: Sequence[Candidate],
        election: Election | None = None,
        posts_per_day: int = 2000,
        seed: int = 2027,
        users: int = 5000,
    ) -> None:
        if not candidates:
            raise ValueError("the X sandbox generator needs at least one candidate")
        self.candidates = tuple(candidates)
        self.election = election
        self.posts_per_day = posts_per_day
        self.seed = seed
        self.users = users
        self._weights = [1.0 + 3.0 * (c.status == 1) for c in self.candidates]
        self._cum = []
        total = 0.0
        for w in self._weights:
            total += w
            self._cum.append(total)
        self._spikes = self._spike_days()
        self._slot_cached = lru_cache(maxsize=4096)(self._slot)
        self.user = lru_cache(maxsize=None)(self._user)  # type: ignore[method-assign]
        self.original = lru_cache(maxsize=4 * REF_POOL)(self._original)  # type: ignore[method-assign]

    # ---- volume -----------------------------------------------------------
    def _spike_days(self) -> dict[date, float]:
        if self.election is None:
            return {}
        e = self.election
        return {
            e.first_round: 4.0,
            e.second_round: 5.0,
            e.second_round - timedelta(days=4): 3.0,  # the debate between the rounds
            e.first_round + timedelta(days=1): 2.0,
            e.second_round + timedelta(days=1): 2.0,
        }

    def expected_per_slot(self, slot: int) -> float:
        start = datetime.fromtimestamp(slot * SLOT_MS / 1000, tz=UTC)
        spike = self._spikes.get(start.date(), 1.0)
        return self.posts_per_day * SLOT_MS / DAY_MS * HOURLY[start.hour] / _HOURLY_MEAN * spike

    # ---- posts ------------------------------------------------------------
    def slot(self, slot: int) -> list[Post]:
        """Posts created in minute ``slot`` (ms // 60000), oldest first."""
        return self._slot_cached(slot)

    def posts_between(self, start_ms: int, end_ms: int) -> Iterator[Post]:
        """Posts with ``start_ms <= created < end_ms``, oldest first."""
        for s in range(start_ms // SLOT_MS, (end_ms - 1) // SLOT_MS + 1):
            for post in self.slot(s):
                ms = snowflake_ms(post.id)
                if start_ms <= ms < end_ms:
                    yield post

    def posts_newest_first(self, start_ms: int, end_ms: int) -> Iterator[Post]:
        for s in range((end_ms - 1) // SLOT_MS, start_ms // SLOT_MS - 1, -1):
            for post in reversed(self.slot(s)):
                ms = snowflake_ms(post.id)
                if start_ms <= ms < end_ms:
                    yield post

    def _slot(self, slot: int) -> list[Post]:
        rng = _rng(self.seed, "slot", slot)
        expected = self.expected_per_slot(slot)
        count = int(expected + rng.random())
        if count <= 0:
            return []
        base = slot * SLOT_MS
        offsets = sorted(rng.randrange(SLOT_MS) for _ in range(count))
        return [self._post(rng, base + off, seq + 1) for seq, off in enumerate(offsets)]

    def _pick(self, rng: random.Random) -> Candidate:
        x = rng.random() * self._cum[-1]
        for cand, c in zip(self.candidates, self._cum, strict=True):
            if x < c:
                return cand
        return self.candidates[-1]

    def _user(self, index: int) -> dict[str, Any]:
        rng = _rng(self.seed, "user", index)
        first, last = rng.choice(FIRST), rng.choice(LAST)
        username = f"{fold(first)}_{fold(last)}{index}"[:15].replace(" ", "")
        return {
            "id": str(10**9 + index),
            "name": f"{first} {last}",
            "username": username,
            "location": rng.choice(PLACES) or None,
            "created_at": iso_ms(1262304000000 + index * 3_600_000),
            "verified": index % 97 == 0,
            "public_metrics": {"followers_count": rng.randrange(5, 50000),
                               "following_count": rng.randrange(5, 3000),
                               "tweet_count": rng.randrange(10, 90000), "listed_count": 0},
        }

    def account_user(self, handle: str, cand: Candidate) -> dict[str, Any]:
        return {
            "id": _handle_id(handle),
            "name": cand.name if handle in cand.person_accounts else cand.party,
            "username": handle,
            "location": "France",
            "created_at": "2010-01-01T00:00:00.000Z",
            "verified": True,
            "public_metrics": {"followers_count": 1_000_000, "following_count": 500,
                               "tweet_count": 20000, "listed_count": 3000},
        }

    def _who(self, rng: random.Random, cand: Candidate) -> str:
        forms = [cand.name, cand.name, fold(cand.name).title(), cand.name.lower()]
        if cand.surname:
            forms += [cand.surname, cand.surname, cand.surname.upper(), fold(cand.surname)]
        if cand.accounts:
            forms.append("@" + cand.accounts[0])
        return rng.choice(forms)

    def _text(
        self, rng: random.Random, cand: Candidate, lang: str
    ) -> tuple[str, list[str], list[str], list[str]]:
        """Text naming ``cand``, with its hashtags, mentioned handles and URLs."""
        if lang == "fr":
            template = rng.choice(FR_TEMPLATES)
        elif lang == "en":
            template = rng.choice(EN_TEMPLATES)
        else:
            template = rng.choice(OTHER_TEMPLATES[lang])
        other = self._pick(rng)
        tags: list[str] = []
        mentions: list[str] = []
        urls: list[str] = []
        tag = ""
        if "{tag}" in template:
            tag_word = rng.choice(
                [fold(cand.surname or cand.name).replace(" ", "").replace("-", "").title(),
                 "Presidentielle2027" if self.election and self.election.id == "2027"
                 else "Presidentielle", "Debat", "France"]
            )
            tags.append(tag_word)
            tag = "#" + tag_word
        mention = ""
        if "{mention}" in template and cand.accounts:
            handle = rng.choice(cand.accounts)
            mentions.append(handle)
            mention = "@" + handle
        url = ""
        if "{url}" in template:
            url = "https://t.co/" + "".join(rng.choices("abcdefghijkLMNOPQ0123456789", k=10))
            urls.append(url)
        who = self._who(rng, cand)
        if who.startswith("@"):
            mentions.insert(0, who[1:])
        text = template.format(
            who=who, who2=other.name, media=rng.choice(MEDIA), tag=tag,
            place=rng.choice(PLACES) or "Paris", url=url, mention=mention,
        ).strip()
        return text, tags, mentions, urls

    def _entities(
        self, text: str, tags: list[str], mentions: list[str], urls: list[str], rng: random.Random
    ) -> dict[str, Any]:
        entities: dict[str, Any] = {}
        if tags:
            entities["hashtags"] = [
                {"start": text.find("#" + t), "end": text.find("#" + t) + len(t) + 1, "tag": t}
                for t in tags if ("#" + t) in text
            ]
        if mentions:
            entities["mentions"] = [
                {"start": text.find("@" + m), "end": text.find("@" + m) + len(m) + 1,
                 "username": m, "id": _handle_id(m)}
                for m in dict.fromkeys(mentions) if ("@" + m) in text
            ]
        if urls:
            entities["urls"] = []
            for u in urls:
                start = text.find(u)
                expanded = rng.choice(SITES).format(n=rng.randrange(10**6, 10**7))
                entities["urls"].append({
                    "start": start, "end": start + len(u), "url": u,
                    "expanded_url": expanded, "display_url": expanded.split("//", 1)[1][:25],
                })
        return {k: v for k, v in entities.items() if v}

    def _author(self, rng: random.Random, cand: Candidate, own_share: float) -> dict[str, Any]:
        if cand.accounts and rng.random() < own_share:
            handle = rng.choice(cand.accounts)
            return self.account_user(handle, cand)
        return self.user(rng.randrange(self.users))

    def _lang(self, rng: random.Random) -> str:
        x = rng.random()
        return "fr" if x < 0.65 else "en" if x < 0.95 else "es" if x < 0.98 else "de"

    def _original(self, post_id: int) -> Post:
        """The referenced post ``post_id`` (quoted, retweeted or replied to), from its id alone."""
        rng = _rng(self.seed, "ref", post_id)
        cand = self._pick(rng)
        lang = "fr" if rng.random() < 0.75 else "en"
        author = self._author(rng, cand, own_share=0.4)
        text, tags, mentions, urls = self._text(rng, cand, lang)
        ms = snowflake_ms(post_id)
        tweet = self._tweet(post_id, ms, text, lang, author, str(post_id), rng,
                            self._entities(text, tags, mentions, urls, rng))
        return Post(tweet, author, search_text=fold(text),
                    mentions=frozenset(m.lower() for m in mentions))

    def _tweet(
        self, post_id: int, ms: int, text: str, lang: str, author: dict[str, Any],
        conversation_id: str, rng: random.Random, entities: dict[str, Any],
    ) -> dict[str, Any]:
        popularity = rng.random() ** 4
        tweet: dict[str, Any] = {
            "id": str(post_id),
            "text": text,
            "edit_history_tweet_ids": [str(post_id)],
            "created_at": iso_ms(ms),
            "author_id": author["id"],
            "conversation_id": conversation_id,
            "lang": lang,
            "possibly_sensitive": False,
            "reply_settings": "everyone",
            "_popularity": popularity,
        }
        if entities:
            tweet["entities"] = entities
        return tweet

    def _post(self, rng: random.Random, ms: int, seq: int) -> Post:
        post_id = snowflake(ms, seq)
        cand = self._pick(rng)
        lang = self._lang(rng)
        kind = rng.random()
        if rng.random() < 0.03:  # noise: names nobody, never matched by a query
            text = rng.choice(NOISE).format(place=rng.choice(PLACES) or "Paris")
            author = self.user(rng.randrange(self.users))
            tweet = self._tweet(post_id, ms, text, lang, author, str(post_id), rng, {})
            return Post(tweet, author, search_text=fold(text))
        if kind < 0.55 or lang not in ("fr", "en"):
            author = self._author(rng, cand, own_share=0.05)
            text, tags, mentions, urls = self._text(rng, cand, lang)
            tweet = self._tweet(post_id, ms, text, lang, author, str(post_id), rng,
                                self._entities(text, tags, mentions, urls, rng))
            return Post(tweet, author, search_text=fold(text),
                        mentions=frozenset(m.lower() for m in mentions))
        # Referenced posts come from a pool of the previous day's popular posts, so
        # retweets and quotes concentrate on a few posts, as they do on X.
        r = int(REF_POOL * rng.random() ** 2)
        ref_ms = (ms // DAY_MS - 1) * DAY_MS + r * (DAY_MS // REF_POOL) + 7919 * r % 60_000
        ref = self.original(snowflake(ref_ms, REF_SEQ_BASE + r))
        author = self.user(rng.randrange(self.users))
        if kind < 0.75:  # retweet: "RT @user: " + the original text, as X returns it
            text = f"RT @{ref.username}: {ref.tweet['text']}"
            mentions = [ref.username]
            tweet = self._tweet(post_id, ms, text, ref.lang, author, str(post_id), rng, {})
            ents = {k: v for k, v in ref.tweet.get("entities", {}).items() if k != "mentions"}
            shift = len(f"RT @{ref.username}: ")
            shifted = {
                k: [{**e, "start": e["start"] + shift, "end": e["end"] + shift} for e in v]
                for k, v in ents.items()
            }
            shifted["mentions"] = [
                {"start": 3, "end": 4 + len(ref.username), "username": ref.username,
                 "id": ref.author["id"]}
            ] + [
                {**e, "start": e["start"] + shift, "end": e["end"] + shift}
                for e in ref.tweet.get("entities", {}).get("mentions", [])
            ]
            tweet["entities"] = shifted
            tweet["referenced_tweets"] = [{"type": "retweeted", "id": ref.tweet["id"]}]
            mentions += [m["username"] for m in shifted["mentions"][1:]]
            return Post(tweet, author, ref, "retweeted",
                        search_text=fold(text) + "\n" + ref.search_text,
                        mentions=frozenset(m.lower() for m in mentions))
        if kind < 0.88:  # quote: a comment that often does not name anyone itself
            comment = rng.choice(QUOTE_COMMENTS[lang])
            tags = []
            if "{tag}" in comment:
                tags = ["Presidentielle"]
            text = comment.format(tag="#Presidentielle")
            if rng.random() < 0.3:
                text += " " + self._who(rng, cand)
            link = "https://t.co/" + "".join(rng.choices("abcdefghij0123456789", k=10))
            text += " " + link
            entities = self._entities(text, tags, [], [], rng)
            entities["urls"] = [{
                "start": text.find(link), "end": len(text), "url": link,
                "expanded_url": f"https://twitter.com/{ref.username}/status/{ref.tweet['id']}",
                "display_url": f"twitter.com/{ref.username}/…",
            }]
            mentions = [w[1:] for w in text.split() if w.startswith("@")]
            if mentions:
                entities["mentions"] = [
                    {"start": text.find("@" + m), "end": text.find("@" + m) + len(m) + 1,
                     "username": m, "id": _handle_id(m)} for m in mentions
                ]
            tweet = self._tweet(post_id, ms, text, lang, author, str(post_id), rng, entities)
            tweet["referenced_tweets"] = [{"type": "quoted", "id": ref.tweet["id"]}]
            return Post(tweet, author, ref, "quoted",
                        search_text=fold(text) + "\n" + ref.search_text,
                        mentions=frozenset(m.lower() for m in mentions))
        # reply: addressed to the referenced post's author, names the candidate or not
        body = rng.choice(REPLY_TEXTS[lang]).format(who=self._who(rng, cand))
        text = f"@{ref.username} {body}"
        mentions = [ref.username] + [w[1:] for w in body.split() if w.startswith("@")]
        entities = {"mentions": [
            {"start": text.find("@" + m), "end": text.find("@" + m) + len(m) + 1,
             "username": m, "id": ref.author["id"] if i == 0 else _handle_id(m)}
            for i, m in enumerate(dict.fromkeys(mentions))
        ]}
        tweet = self._tweet(post_id, ms, text, lang, author,
                            ref.tweet["conversation_id"], rng, entities)
        tweet["referenced_tweets"] = [{"type": "replied_to", "id": ref.tweet["id"]}]
        tweet["in_reply_to_user_id"] = ref.author["id"]
        return Post(tweet, author, ref, "replied_to", search_text=fold(text),
                    mentions=frozenset(m.lower() for m in mentions))


def public_metrics(tweet: dict[str, Any], now_ms: int) -> dict[str, int]:
    """Engagement that grows with the post's age (so re-collecting refreshes it)."""
    age_h = max(0.0, (now_ms - snowflake_ms(int(tweet["id"]))) / 3_600_000)
    growth = min(1.0, age_h / 24) ** 0.5
    reach = tweet.get("_popularity", 0.0) * growth
    likes = int(reach * 5000)
    return {
        "retweet_count": int(reach * 800),
        "reply_count": int(reach * 300),
        "like_count": likes,
        "quote_count": int(reach * 90),
        "bookmark_count": int(reach * 40),
        "impression_count": int(reach * 200_000) + int(growth * 50),
    }
