"""Deterministic Bluesky posts for the sandbox: who posts what, when, and when it is deleted.

Every day of the campaign gets ``posts_per_day`` posts spread over all 24 hours
(one per time slot, so every hour has posts), in French (3 in 4) and English,
naming the candidates by full name, surname or unaccented name, mentioning their
Bluesky accounts (with a mention facet) and sometimes written by those accounts.
Some are replies or quotes of an earlier post of the day. A small share is
deleted some time after it was posted, so a re-check finds it gone.
The same seed gives the same posts, byte for byte.

Posts carry what the real recordings show (``recordings/bsky/README``), each
decided by a digest of the post's URI (so the random stream, and thus the posts,
stay as they were): ``langs`` absent, with a region (``fr-FR``) or with two values;
outline ``tags``; link facets with an external embed; image embeds; quotes as
``recordWithMedia``; and posts bridged from the fediverse, cut at 300 characters
with the whole text (HTML) in ``bridgyOriginalText``.
"""

from __future__ import annotations

import hashlib
import html
import random
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any

from elex_assets.core.registry import Candidate

B32 = "234567abcdefghijklmnopqrstuvwxyz"  # the base32-sortable alphabet of TIDs
FR_TEMPLATES = (
    "{name} en meeting ce soir à {city}, la salle est pleine",
    "Le débat d'hier avec {name} était tendu, qui a gagné selon vous ?",
    "Sondage : {name} progresse encore dans les intentions de vote #presidentielle2027",
    "Je ne comprends pas le programme de {name} sur les retraites",
    "Interview de {name} ce matin, {surname} maintient sa ligne",
    "À {city}, les militants de {surname} distribuent des tracts",
)
EN_TEMPLATES = (
    "{name} leads the latest French presidential poll",
    "Watching the French debate: {name} on pensions and energy",
    "Interesting profile of {name} in today's paper #France2027",
    "{surname} campaigns in {city} today",
)
CITIES = ("Lyon", "Marseille", "Lille", "Rennes", "Toulouse", "Nantes", "Besançon", "Créteil")
FIRST = ("camille", "lucas", "chloe", "hugo", "lea", "jules", "manon", "louis", "emma", "noah",
         "sarah", "adam", "ines", "theo", "jade", "paul", "alice", "tom", "lina", "arthur")


def _digest(*parts: object) -> bytes:
    return hashlib.sha256("|".join(map(str, parts)).encode()).digest()


def _b32(data: bytes, length: int) -> str:
    n = int.from_bytes(data, "big")
    return "".join(B32[(n >> (5 * i)) & 31] for i in range(length))


def tid(when_us: int, clock_id: int) -> str:
    """A record key in TID form: 53 bits of microseconds and 10 of clock id, base32-sortable."""
    n = (when_us << 10) | (clock_id & 1023)
    return "".join(B32[(n >> (5 * (12 - i))) & 31] for i in range(13))


def did_for(name: str) -> str:
    return "did:plc:" + _b32(_digest("did", name), 24)


def cid_for(*parts: object) -> str:
    return "bafyrei" + _b32(_digest("cid", *parts), 52)


def iso_ms(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()


@dataclass(frozen=True)
class Author:
    did: str
    handle: str
    display_name: str

    def view(self) -> dict[str, Any]:
        return {"did": self.did, "handle": self.handle, "displayName": self.display_name,
                "avatar": f"https://cdn.bsky.app/img/avatar/plain/{self.did}/sandbox@jpeg",
                "associated": {"chat": {"allowIncoming": "following"}},
                "viewer": {"muted": False, "blockedBy": False},
                "labels": [], "createdAt": "2024-11-12T09:00:00.000Z"}


@dataclass
class BPost:
    uri: str
    cid: str
    author: Author
    created: datetime
    text: str
    lang: str
    facets: list[dict[str, Any]]
    reply: dict[str, Any] | None
    quote: BPost | None
    counts: tuple[int, int, int, int]  # reply, repost, like, quote
    deleted_at: datetime | None
    folded: str = field(init=False)
    mentions: tuple[str, ...] = ()  # handles mentioned through facets
    langs: tuple[str, ...] | None = None  # as declared (empty: no langs; None: (lang,))
    tags: tuple[str, ...] = ()  # outline tags (record.tags), not in the text
    link: str | None = None  # a linked URL (link facet and external embed)
    image: bool = False  # an image embed
    bridged: str | None = None  # the whole text of a bridged post (text is cut)

    def __post_init__(self) -> None:
        self.folded = fold(self.text)  # what the search index sees: the record's (cut) text
        if self.langs is None:
            self.langs = (self.lang,)

    @property
    def indexed(self) -> datetime:
        return self.created + timedelta(milliseconds=700 + len(self.text) * 3)

    def record(self) -> dict[str, Any]:
        rec: dict[str, Any] = {"$type": "app.bsky.feed.post", "createdAt": iso_ms(self.created)}
        if self.langs:
            rec["langs"] = list(self.langs)
        rec["text"] = self.text
        if self.bridged is not None:
            rec["bridgyOriginalText"] = f"<p>{html.escape(self.bridged, quote=False)}</p>"
        facets = list(self.facets)
        if self.link:
            start = self.text.encode().find(self.link.encode())
            if start >= 0:
                facets.append({"features": [{"$type": "app.bsky.richtext.facet#link",
                                             "uri": self.link}],
                               "index": {"byteEnd": start + len(self.link.encode()),
                                         "byteStart": start}})
        if facets:
            rec["facets"] = facets
        if self.tags:
            rec["tags"] = list(self.tags)
        if self.reply:
            rec["reply"] = self.reply
        media = self._media_record()
        if self.quote is not None:
            quoted = {"cid": self.quote.cid, "uri": self.quote.uri}
            rec["embed"] = ({"$type": "app.bsky.embed.recordWithMedia", "media": media,
                             "record": {"$type": "app.bsky.embed.record", "record": quoted}}
                            if media else {"$type": "app.bsky.embed.record", "record": quoted})
        elif media:
            rec["embed"] = media
        return rec

    def _blob(self, kind: str) -> dict[str, Any]:
        return {"$type": "blob", "ref": {"$link": "bafkrei" + _b32(_digest(kind, self.uri), 52)},
                "mimeType": "image/jpeg", "size": 40_000 + _digest(kind, self.uri)[0] * 500}

    def _media_record(self) -> dict[str, Any] | None:
        if self.image:
            return {"$type": "app.bsky.embed.images", "images": [{
                "alt": "", "aspectRatio": {"height": 1080, "width": 1350},
                "image": self._blob("image")}]}
        if self.link:
            return {"$type": "app.bsky.embed.external", "external": {
                "description": "Article", "thumb": self._blob("thumb"),
                "title": "Présidentielle 2027", "uri": self.link}}
        return None

    def _media_view(self) -> dict[str, Any] | None:
        cdn = "https://cdn.bsky.app/img"
        if self.image:
            link = self._blob("image")["ref"]["$link"]
            return {"$type": "app.bsky.embed.images#view", "images": [{
                "thumb": f"{cdn}/feed_thumbnail/plain/{self.author.did}/{link}@jpeg",
                "fullsize": f"{cdn}/feed_fullsize/plain/{self.author.did}/{link}@jpeg",
                "alt": "", "aspectRatio": {"height": 1080, "width": 1350}}]}
        if self.link:
            link = self._blob("thumb")["ref"]["$link"]
            return {"$type": "app.bsky.embed.external#view", "external": {
                "uri": self.link, "title": "Présidentielle 2027", "description": "Article",
                "thumb": f"{cdn}/feed_thumbnail/plain/{self.author.did}/{link}@jpeg"}}
        return None

    def view(self) -> dict[str, Any]:
        """The post as ``app.bsky.feed.defs#postView``, keys in the recorded order."""
        reply, repost, like, quote = self.counts
        out: dict[str, Any] = {
            "uri": self.uri, "cid": self.cid, "author": self.author.view(),
            "record": self.record(),
        }
        media = self._media_view()
        if self.quote is not None:
            q = self.quote
            quoted = {"$type": "app.bsky.embed.record#viewRecord", "uri": q.uri, "cid": q.cid,
                      "author": q.author.view(), "value": q.record(), "labels": [],
                      "likeCount": q.counts[2], "replyCount": q.counts[0],
                      "repostCount": q.counts[1], "quoteCount": q.counts[3],
                      "indexedAt": iso_ms(q.indexed), "embeds": []}
            out["embed"] = (
                {"$type": "app.bsky.embed.recordWithMedia#view",
                 "record": {"$type": "app.bsky.embed.record#view", "record": quoted},
                 "media": media}
                if media else {"$type": "app.bsky.embed.record#view", "record": quoted})
        elif media:
            out["embed"] = media
        out.update({"replyCount": reply, "repostCount": repost, "likeCount": like,
                    "quoteCount": quote, "indexedAt": iso_ms(self.indexed),
                    "viewer": {"threadMuted": False, "embeddingDisabled": False},
                    "labels": []})
        return out


BRIDGED_TAIL = (
    " — fil repris de Mastodon. Ce que j'en retiens après le meeting de ce soir : des "
    "propositions chiffrées sur le pouvoir d'achat, l'école, la santé et la transition "
    "écologique, mais peu de réponses sur le financement. À suivre lors du prochain débat "
    "télévisé, où chacun devra enfin préciser son calendrier et ses priorités."
)
BRIDGE_CUT = 300  # Bluesky's limit, in graphemes (characters here)


def decorations(uri: str, lang: str, text: str) -> dict[str, Any]:
    """What a post carries beyond its text, from a digest of its URI (see the module doc)."""
    d = _digest("decorate", uri)
    other = "en" if lang == "fr" else "fr"
    langs: tuple[str, ...] | None = (lang,)
    if d[0] % 11 == 0:
        langs = ()  # no langs
    elif d[0] % 11 == 1:
        langs = ("fr-FR" if lang == "fr" else "en-US",)
    elif d[0] % 11 == 2:
        langs = (lang, other)
    tags = (("Presidentielle2027",) if lang == "fr" else ("France2027",)) if d[1] % 7 == 0 \
        else ()
    link = None
    if d[2] % 9 == 0:
        link = f"https://www.example.org/{'fr' if lang == 'fr' else 'en'}/{_b32(d[3:9], 8)}"
        text = f"{text} {link}"
    image = link is None and d[4] % 13 == 0
    bridged = None
    if link is None and d[5] % 17 == 0:
        bridged = text + BRIDGED_TAIL
        text = bridged[:BRIDGE_CUT - 1] + "…"
    return {"text": text, "langs": langs, "tags": tags, "link": link, "image": image,
            "bridged": bridged}


class BskyGenerator:
    """Posts of each day, generated on first use and cached."""

    def __init__(self, candidates: Sequence[Candidate], posts_per_day: int = 400,
                 seed: int = 2027, deletion_rate: float = 0.03) -> None:
        self.candidates = tuple(candidates)
        self.posts_per_day = posts_per_day
        self.seed = seed
        self.deletion_rate = deletion_rate
        self.users = [Author(did_for(f"u{i}"), f"{FIRST[i % len(FIRST)]}{i}.bsky.social",
                             f"{FIRST[i % len(FIRST)].title()} {i}") for i in range(120)]
        self.accounts = {
            handle: Author(did_for(handle), handle, c.name)
            for c in self.candidates for handle in c.bluesky_accounts
        }
        self.by_did = {a.did: a for a in [*self.users, *self.accounts.values()]}

    def handle_did(self, handle: str) -> str | None:
        handle = handle.lower().removeprefix("@")
        for author in self.by_did.values():
            if author.handle == handle:
                return author.did
        return None

    @lru_cache(maxsize=64)  # noqa: B019 - one generator per sandbox, lives as long
    def day(self, day: date) -> list[BPost]:
        """The day's posts, oldest first."""
        if not self.candidates:
            return []
        rng = random.Random(f"{self.seed}:{day.isoformat()}")
        start = datetime(day.year, day.month, day.day, tzinfo=UTC)
        slot_us = 86_400_000_000 // self.posts_per_day
        posts: list[BPost] = []
        for i in range(self.posts_per_day):
            created = start + timedelta(microseconds=i * slot_us + rng.randrange(slot_us))
            created = created.replace(microsecond=created.microsecond // 1000 * 1000)
            posts.append(self._post(rng, created, posts, i))
        return posts

    def _post(self, rng: random.Random, created: datetime, earlier: list[BPost], i: int) -> BPost:
        cand = rng.choice(self.candidates)
        handles = cand.bluesky_accounts
        author = rng.choice(self.users)
        if handles and rng.random() < 0.1:
            author = self.accounts[handles[0]]
        lang = "fr" if rng.random() < 0.75 else "en"
        template = rng.choice(FR_TEMPLATES if lang == "fr" else EN_TEMPLATES)
        roll = rng.random()
        name = cand.name
        if roll < 0.15:
            name = "".join(ch for ch in unicodedata.normalize("NFKD", cand.name)
                           if not unicodedata.combining(ch))
        surname = cand.surname or cand.name
        text = template.format(name=name, surname=surname, city=rng.choice(CITIES))
        facets: list[dict[str, Any]] = []
        mentions: tuple[str, ...] = ()
        if handles and rng.random() < 0.2:
            handle = rng.choice(handles)
            text += f" @{handle}"
            start = len(text.encode()) - len(handle.encode()) - 1
            facets.append({"$type": "app.bsky.richtext.facet",
                           "index": {"byteStart": start, "byteEnd": len(text.encode())},
                           "features": [{"$type": "app.bsky.richtext.facet#mention",
                                         "did": self.accounts[handle].did}]})
            mentions = (handle,)
        if "#" in text:
            tag = text[text.index("#") + 1:].split()[0]
            at = text.encode().index(f"#{tag}".encode())
            facets.append({"$type": "app.bsky.richtext.facet",
                           "index": {"byteStart": at, "byteEnd": at + len(tag.encode()) + 1},
                           "features": [{"$type": "app.bsky.richtext.facet#tag", "tag": tag}]})
        when_us = int(created.timestamp() * 1_000_000)
        uri = f"at://{author.did}/app.bsky.feed.post/{tid(when_us, i)}"
        reply = None
        quote = None
        kind = rng.random()
        if earlier and kind < 0.2:
            parent = rng.choice(earlier[-50:])
            root = parent.reply["root"] if parent.reply else {"uri": parent.uri, "cid": parent.cid}
            reply = {"root": root, "parent": {"uri": parent.uri, "cid": parent.cid}}
        elif earlier and kind < 0.3:
            quote = rng.choice(earlier[-50:])
        counts = (rng.randrange(0, 12), rng.randrange(0, 30), rng.randrange(0, 200),
                  rng.randrange(0, 5))
        deleted_at = None
        if rng.random() < self.deletion_rate:
            deleted_at = created + timedelta(seconds=rng.randrange(600, 3 * 86_400))
        extra = decorations(uri, lang, text)
        text = extra.pop("text")
        return BPost(uri, cid_for(uri, text), author, created, text, lang, facets, reply, quote,
                     counts, deleted_at, mentions=mentions, **extra)

    def find(self, uri: str) -> BPost | None:
        """The post behind ``uri`` (its TID carries the day it was created)."""
        try:
            rkey = uri.rsplit("/", 1)[1]
            n = 0
            for ch in rkey:
                n = n * 32 + B32.index(ch)
            when = datetime.fromtimestamp((n >> 10) / 1_000_000, UTC)
        except (IndexError, ValueError):
            return None
        for post in self.day(when.date()):
            if post.uri == uri:
                return post
        return None
