"""A loopback server speaking the X API v2 wire format, as tweepy 4.17 expects it.

Serves recent and full-archive search, the filtered stream and its rules, from
the deterministic generator; honours the query; answers errors in X's problem
format; and injects faults on demand (``sandbox.faults.add("429")``) so tests can
see the collector retry, wait and resume.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlparse

from elex_assets.core.elections import Election
from elex_assets.core.registry import Candidate, load_registry
from elex_assets.sandbox import x_compliance as compliance
from elex_assets.sandbox.faults import Fault, FaultQueue
from elex_assets.sandbox.loopback import LoopbackServer
from elex_assets.sandbox.x_generator import (
    Post,
    XGenerator,
    public_metrics,
    snowflake_ms,
)
from elex_assets.sandbox.x_query_eval import QuerySyntaxError, compile_query

FAULT_KINDS = ("429", "503", "drop", "truncate", "401", "403", "usage_cap")
SEARCH_PATHS = {"/2/tweets/search/recent": "recent", "/2/tweets/search/all": "all"}
COUNTS_PATHS = {"/2/tweets/counts/recent": "recent", "/2/tweets/counts/all": "all"}
GRANULARITY = {"minute": 60, "hour": 3600, "day": 86400}
PAGE_LIMITS = {"recent": (10, 100), "all": (10, 500)}
DEFAULT_TWEET_FIELDS = ("id", "text", "edit_history_tweet_ids")
DEFAULT_USER_FIELDS = ("id", "name", "username")


class Faults(FaultQueue):
    """Faults for the next matching requests of the sandbox X API."""

    kinds = FAULT_KINDS
    default_path = "/2/tweets/search"


def _parse_time(value: str, name: str) -> datetime:
    try:
        dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise _Problem(400, _invalid(name, value, f"Invalid '{name}':'{value}'.")) from None
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def _query_predicate(endpoint: str, params: dict[str, str]) -> Callable[[Post], bool]:
    """The request's ``query`` compiled, refused as X refuses it (empty, too long, bad syntax)."""
    query = params.get("query")
    if not query:
        raise _Problem(400, _invalid("query", "", "The `query` query parameter can not be empty"))
    limit = 512 if endpoint == "recent" else 1024
    if len(query) > limit:
        raise _Problem(400, _invalid(
            "query", query, f"The `query` query parameter value [{query}] is not valid; "
            f"query length {len(query)} exceeds {limit}"))
    try:
        return compile_query(query)
    except QuerySyntaxError as exc:
        raise _Problem(400, _invalid("query", query, f"There were errors processing your "
                                     f"request: {exc}")) from None


def _time_range(
    now: datetime, endpoint: str, params: dict[str, str], by_id: bool = False
) -> tuple[datetime, datetime]:
    """``start_time`` / ``end_time`` with X's defaults (recent: the last 7 days; all: the
    last 30, or all time when paging by id), refused as X refuses them."""
    earliest = now - timedelta(days=7) if endpoint == "recent" else datetime(2006, 3, 21,
                                                                             tzinfo=UTC)
    latest = now - timedelta(seconds=10)
    default_start = now - timedelta(days=7) + timedelta(seconds=30) if endpoint == "recent" \
        else (earliest if by_id else now - timedelta(days=30))
    start = _parse_time(params["start_time"], "start_time") if "start_time" in params \
        else default_start
    end = _parse_time(params["end_time"], "end_time") if "end_time" in params else latest
    if start < earliest:
        raise _Problem(400, _invalid(
            "start_time", params["start_time"],
            f"Invalid 'start_time':'{params['start_time']}'. 'start_time' must be on or "
            f"after {_iso(earliest)}"))
    if end > latest:
        raise _Problem(400, _invalid(
            "end_time", params["end_time"],
            f"Invalid 'end_time':'{params['end_time']}'. 'end_time' must be a minimum of "
            "10 seconds prior to the request time."))
    if end <= start:
        raise _Problem(400, _invalid(
            "end_time", params.get("end_time", ""),
            "Invalid 'end_time'. 'end_time' must be after 'start_time'"))
    return start, end


def _bucket(edges: list[int], ms: int) -> int:
    import bisect

    return min(len(edges) - 2, max(0, bisect.bisect_right(edges, ms) - 1))


def _iso_ms(ms: int) -> str:
    return _iso(datetime.fromtimestamp(ms / 1000, UTC))


def _iso(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _invalid(name: str, value: str, message: str) -> dict[str, Any]:
    return {
        "errors": [{"parameters": {name: [value]}, "message": message}],
        "title": "Invalid Request",
        "detail": "One or more parameters to your request was invalid.",
        "type": "https://api.twitter.com/2/problems/invalid-request",
    }


class _Problem(Exception):
    def __init__(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None):
        super().__init__(status)
        self.status = status
        self.body = body
        self.headers = headers or {}


PROBLEMS = {
    401: {"title": "Unauthorized", "type": "about:blank", "status": 401, "detail": "Unauthorized"},
    403: {
        "client_id": "sandbox",
        "detail": "When authenticating requests to the Twitter API v2 endpoints, you must use "
        "keys and tokens from a Twitter developer App that is attached to a Project.",
        "registration_url": "https://developer.twitter.com/en/docs/projects/overview",
        "title": "Client Forbidden",
        "required_enrollment": "Appropriate Level of API Access",
        "reason": "client-not-enrolled",
        "type": "https://api.twitter.com/2/problems/client-forbidden",
    },
    429: {"title": "Too Many Requests", "detail": "Too Many Requests", "type": "about:blank",
          "status": 429},
    503: {"title": "Service Unavailable", "detail": "Service Unavailable", "type": "about:blank",
          "status": 503},
    "usage_cap": {
        "title": "UsageCapExceeded",
        "detail": "Usage cap exceeded: Monthly product cap",
        "type": "https://api.twitter.com/2/problems/usage-capped",
        "period": "Monthly",
        "scope": "Product",
    },
}


class XSandbox(LoopbackServer):
    """The sandbox X API on 127.0.0.1 (port 0 = a free port); a context manager."""

    name = "X sandbox"

    def handler(self) -> type[BaseHTTPRequestHandler]:
        return _Handler

    def __init__(
        self,
        candidates: Sequence[Candidate] | None = None,
        election: Election | str = "2027",
        posts_per_day: int = 2000,
        seed: int = 2027,
        host: str = "127.0.0.1",
        port: int = 0,
        token: str | None = None,
        clock: Callable[[], datetime] | None = None,
        stream_interval: float = 0.25,
    ) -> None:
        if isinstance(election, str):
            registry = load_registry(election)
            election = registry.election
            if candidates is None:
                candidates = registry.selected()
        self.generator = XGenerator(candidates or (), election, posts_per_day, seed)
        self.token = token
        self.clock = clock or (lambda: datetime.now(UTC))
        self.faults = Faults()
        self.served: Counter[str] = Counter()  # posts_read, counts_recent, counts_all
        self.requests: deque[dict[str, Any]] = deque(maxlen=100_000)  # recent requests
        self.rules: dict[str, dict[str, str]] = {}
        self.stream_interval = stream_interval
        self._rule_seq = 0
        self._lock = threading.Lock()
        super().__init__(host, port)
        self._stopping = threading.Event()

    def stop(self) -> None:
        self._stopping.set()  # ends open streams
        super().stop()

    def bill(self, item: str, n: int, fault: Fault | None) -> None:
        """What X would bill for a served response (a dropped or cut one is not served)."""
        if fault is not None and fault.kind in ("drop", "truncate"):
            return
        with self._lock:
            self.served[item] += n

    def rate_window(self, path: str) -> tuple[int, int, int]:
        """(limit, remaining, reset) of ``path``'s 15-minute window: the reset is the
        window's fixed end (epoch seconds), remaining decreases with each request."""
        now = time.time()
        end = (int(now) // RATE_WINDOW + 1) * RATE_WINDOW
        limit = RATE_LIMITS.get(path, 450)
        with self._lock:
            used = sum(1 for r in self.requests
                       if r["path"] == path and r.get("wall", 0) >= end - RATE_WINDOW)
        return limit, max(0, limit - used), end

    def search_requests(self) -> list[dict[str, Any]]:
        with self._lock:
            return [r for r in self.requests if r["path"] in SEARCH_PATHS]

    # ---- search -----------------------------------------------------------
    def search(self, endpoint: str, params: dict[str, str]) -> dict[str, Any]:
        now = self.clock()
        predicate = _query_predicate(endpoint, params)
        lo_page, hi_page = PAGE_LIMITS[endpoint]
        raw_max = params.get("max_results", "10")
        if not raw_max.isdigit() or not lo_page <= int(raw_max) <= hi_page:
            raise _Problem(400, _invalid(
                "max_results", raw_max, f"The `max_results` query parameter value [{raw_max}] "
                f"is not between {lo_page} and {hi_page}"))
        max_results = int(raw_max)
        by_id = "since_id" in params or "until_id" in params
        if by_id and ("start_time" in params or "end_time" in params):
            raise _Problem(400, _invalid(
                "since_id", params.get("since_id", params.get("until_id", "")),
                "Invalid use of 'since_id' or 'until_id' in conjunction with 'start_time' or "
                "'end_time'."))
        start, end = _time_range(now, endpoint, params, by_id)
        since = self._id_param(params, "since_id")
        until = self._id_param(params, "until_id")
        token = params.get("pagination_token") or params.get("next_token")
        below = None
        if token:
            below = decode_token(token)
            if below is None:
                raise _Problem(400, _invalid(
                    "next_token", token, f"The `next_token` query parameter value [{token}] "
                    "is not one of [valid tokens]"))
        start_ms = int(start.timestamp() * 1000)
        end_ms = int(end.timestamp() * 1000)
        for bound in (below, until):
            if bound is not None:
                end_ms = min(end_ms, snowflake_ms(bound) + 1)
        if since is not None:
            start_ms = max(start_ms, snowflake_ms(since))
        page: list[Post] = []
        more = False
        for post in self.generator.posts_newest_first(start_ms, end_ms):
            pid = post.id
            if below is not None and pid >= below:
                continue
            if until is not None and pid >= until:
                continue
            if since is not None and pid <= since:
                break
            if not predicate(post):
                continue
            if len(page) == max_results:
                more = True
                break
            page.append(post)
        if not page:
            return {"meta": {"result_count": 0}}
        body = self.render(page, params, int(now.timestamp() * 1000))
        meta: dict[str, Any] = {
            "newest_id": page[0].tweet["id"],
            "oldest_id": page[-1].tweet["id"],
            "result_count": len(page),
        }
        if more:
            meta["next_token"] = encode_token(page[-1].id)
        body["meta"] = meta
        return body

    # ---- counts -----------------------------------------------------------
    def counts(self, endpoint: str, params: dict[str, str]) -> dict[str, Any]:
        """``GET /2/tweets/counts/{recent,all}``: posts matching the query per bucket."""
        now = self.clock()
        predicate = _query_predicate(endpoint, params)
        granularity = params.get("granularity", "hour")
        if granularity not in GRANULARITY:
            raise _Problem(400, _invalid(
                "granularity", granularity, f"The `granularity` query parameter value "
                f"[{granularity}] is not one of [minute,hour,day]"))
        if "start_time" in params or "end_time" in params:
            start, end = _time_range(now, endpoint, params)
        else:  # X's defaults for counts: up to 10 s ago; recent 7 days back, all 30 from midnight
            end = now.replace(microsecond=0) - timedelta(seconds=10)
            start = end - timedelta(days=7) if endpoint == "recent" else (
                end - timedelta(days=30)).replace(hour=0, minute=0, second=0)
        step = GRANULARITY[granularity] * 1000
        start_ms, end_ms = int(start.timestamp() * 1000), int(end.timestamp() * 1000)
        edges = [start_ms]
        nxt = (start_ms // step + 1) * step
        while nxt < end_ms:
            edges.append(nxt)
            nxt += step
        edges.append(end_ms)
        counts = [0] * (len(edges) - 1)
        for post in self.generator.posts_between(start_ms, end_ms):
            if predicate(post):
                counts[_bucket(edges, snowflake_ms(post.id))] += 1
        data = [{"end": _iso_ms(b), "start": _iso_ms(a), "tweet_count": n}
                for a, b, n in zip(edges, edges[1:], counts, strict=False)]
        return {"data": data, "meta": {"total_tweet_count": sum(counts)}}

    @staticmethod
    def _id_param(params: dict[str, str], name: str) -> int | None:
        if name not in params:
            return None
        value = params[name]
        if not value.isdigit():
            raise _Problem(400, _invalid(name, value, f"The `{name}` query parameter value "
                                         f"[{value}] is not valid"))
        return int(value)

    def render(self, posts: list[Post], params: dict[str, str], now_ms: int) -> dict[str, Any]:
        return render_posts(posts, params, now_ms)

    # ---- stream rules -----------------------------------------------------
    def rules_get(self) -> dict[str, Any]:
        sent = _iso(self.clock())
        with self._lock:
            rules = list(self.rules.values())
        if not rules:
            return {"meta": {"sent": sent, "result_count": 0}}
        return {"data": rules, "meta": {"sent": sent, "result_count": len(rules)}}

    def rules_post(self, body: dict[str, Any]) -> dict[str, Any]:
        sent = _iso(self.clock())
        if "add" in body:
            created = []
            for rule in body["add"]:
                try:
                    compile_query(rule["value"])
                except QuerySyntaxError as exc:
                    raise _Problem(400, _invalid("value", rule["value"], str(exc))) from None
                with self._lock:
                    self._rule_seq += 1
                    rid = str(1_600_000_000_000_000_000 + self._rule_seq)
                    entry = {"id": rid, "value": rule["value"]}
                    if rule.get("tag"):
                        entry["tag"] = rule["tag"]
                    self.rules[rid] = entry
                created.append(entry)
            return {"data": created, "meta": {"sent": sent, "summary": {
                "created": len(created), "not_created": 0, "valid": len(created), "invalid": 0}}}
        if "delete" in body:
            ids = body["delete"].get("ids", [])
            with self._lock:
                deleted = [i for i in ids if self.rules.pop(i, None) is not None]
            return {"meta": {"sent": sent, "summary": {
                "deleted": len(deleted), "not_deleted": len(ids) - len(deleted)}}}
        raise _Problem(400, _invalid("body", json.dumps(body), "expected 'add' or 'delete'"))

    def stream_posts(self, since_ms: int, until_ms: int) -> list[tuple[Post, list[dict[str, str]]]]:
        with self._lock:
            rules = list(self.rules.values())
        compiled = [(r, compile_query(r["value"])) for r in rules]
        out = []
        for post in self.generator.posts_between(since_ms, until_ms):
            matching = [
                {"id": r["id"], **({"tag": r["tag"]} if "tag" in r else {})}
                for r, pred in compiled if pred(post)
            ]
            if matching:
                out.append((post, matching))
        return out


def render_posts(posts: list[Post], params: dict[str, str], now_ms: int) -> dict[str, Any]:
    """Posts as X returns them: requested fields, expansions in ``includes``."""
    fields = set(DEFAULT_TWEET_FIELDS) | _csv(params.get("tweet.fields"))
    user_fields = set(DEFAULT_USER_FIELDS) | _csv(params.get("user.fields"))
    expansions = _csv(params.get("expansions"))
    data = [_render_tweet(p, fields, now_ms) for p in posts]
    users: dict[str, dict[str, Any]] = {}
    refs: dict[str, dict[str, Any]] = {}

    def add_user(user: dict[str, Any]) -> None:
        if user["id"] not in users:
            users[user["id"]] = {k: v for k, v in user.items() if k in user_fields}

    for post in posts:
        if "author_id" in expansions:
            add_user(post.author)
        if post.ref is not None:
            if "referenced_tweets.id" in expansions and post.ref.tweet["id"] not in refs:
                refs[post.ref.tweet["id"]] = _render_tweet(post.ref, fields, now_ms)
            if "referenced_tweets.id.author_id" in expansions or (
                "in_reply_to_user_id" in expansions and post.ref_type == "replied_to"
            ):
                add_user(post.ref.author)
    errors = []
    for ref_id in list(refs):
        if _withheld(ref_id):  # X leaves the post out of includes and says why in errors[]
            del refs[ref_id]
            errors.append(_not_found(ref_id))
    body: dict[str, Any] = {"data": data}
    includes: dict[str, Any] = {}
    if users:
        includes["users"] = list(users.values())
    if refs:
        includes["tweets"] = list(refs.values())
    if includes:
        body["includes"] = includes
    if errors:
        body["errors"] = errors
    return body


def _render_tweet(post: Post, fields: set[str], now_ms: int) -> dict[str, Any]:
    out = {k: v for k, v in post.tweet.items() if k in fields}
    if "public_metrics" in fields:
        out["public_metrics"] = public_metrics(post.tweet, now_ms)
    full = long_text(post)
    if full is not None:  # X cuts long posts in `text`; the whole text is in note_tweet
        out["text"] = full[:NOTE_CUT] + "…"
        if "note_tweet" in fields:
            out["note_tweet"] = {"text": full}
    return out


# --- what the recordings show and a model easily gets wrong (recordings/README.md) ---------
API_VERSION = "2.52"
ACCESS_LEVEL = "read"  # x-access-level on every real answer (an app-only bearer token reads)
RATE_LIMITS = {"/2/tweets/search/recent": 450, "/2/tweets/search/all": 300,
               "/2/tweets/counts/recent": 300, "/2/tweets/counts/all": 300}
RATE_WINDOW = 900  # seconds; X's windows end at a fixed time, the reset header names it
TOKEN_PREFIX = "b26v89c19zqg8o3f"  # every recorded next_token starts so
NOTE_CUT = 279
LONG_EVERY = 17  # one original post in ~17 is a long post (note_tweet)
WITHHELD_EVERY = 41  # one referenced post in ~41 is withheld / deleted (partial errors[])
LONG_TAIL = (
    " Thread. Ce que j'en retiens après le meeting de ce soir : des propositions chiffrées "
    "sur le pouvoir d'achat, l'école, la santé et la transition écologique, mais peu de "
    "réponses sur le financement. À suivre lors du prochain débat télévisé, où chacun "
    "devra enfin préciser son calendrier et ses priorités pour les cinq prochaines années."
)


def _digest(*parts: object) -> bytes:
    import hashlib

    return hashlib.sha256("|".join(map(str, parts)).encode()).digest()


def encode_token(post_id: int) -> str:
    """An opaque ~45-character token (like X's) that only this sandbox can read back."""
    body = _b36(post_id).rjust(13, "0")
    check = _b36(int.from_bytes(_digest("next", body)[:10], "big")).rjust(16, "0")[:16]
    return TOKEN_PREFIX + body + check


def decode_token(token: str) -> int | None:
    """The post id a token continues below, or None when this sandbox never issued it."""
    if len(token) != 45 or not token.startswith(TOKEN_PREFIX):
        return None
    body = token[len(TOKEN_PREFIX):len(TOKEN_PREFIX) + 13]
    try:
        post_id = int(body, 36)
    except ValueError:
        return None
    return post_id if encode_token(post_id) == token else None


def long_text(post: Post) -> str | None:
    """The full text of a long post (some originals are), else None."""
    if post.ref_type is not None or _digest("long", post.tweet["id"])[0] % LONG_EVERY:
        return None
    return post.tweet["text"] + LONG_TAIL


def _withheld(post_id: str) -> bool:
    return _digest("withheld", post_id)[0] % WITHHELD_EVERY == 0


def _not_found(post_id: str) -> dict[str, Any]:
    return {
        "value": post_id,
        "detail": f"Could not find tweet with referenced_tweets.id: [{post_id}].",
        "title": "Not Found Error",
        "resource_type": "tweet",
        "parameter": "referenced_tweets.id",
        "resource_id": post_id,
        "type": "https://api.twitter.com/2/problems/resource-not-found",
    }


def _csv(value: str | None) -> set[str]:
    return {v.strip() for v in (value or "").split(",") if v.strip()}


def _b36(n: int) -> str:
    chars = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while n:
        n, r = divmod(n, 36)
        out = chars[r] + out
    return out or "0"


class _Handler(BaseHTTPRequestHandler):
    sandbox: XSandbox
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet by default
        pass

    # ---- plumbing ---------------------------------------------------------
    def _send(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None,
              fault: Fault | None = None) -> None:
        payload = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
        path = urlparse(self.path).path
        limit, remaining, reset = self.sandbox.rate_window(path)
        self.send_response(status)
        self.send_header("content-type", "application/json; charset=utf-8")
        self.send_header("api-version", API_VERSION)
        self.send_header("x-access-level", ACCESS_LEVEL)
        self.send_header("x-rate-limit-limit", str(limit))
        if not headers or "x-rate-limit-remaining" not in headers:
            self.send_header("x-rate-limit-remaining", str(remaining))
        if not headers or "x-rate-limit-reset" not in headers:
            self.send_header("x-rate-limit-reset", str(reset))
        for k, v in (headers or {}).items():
            if v != "":  # an empty value: the header is left out
                self.send_header(k, v)
        if fault is not None and fault.kind == "truncate":
            payload = payload[: max(1, len(payload) // 2)]
        self.send_header("content-length", str(len(payload)))
        self.end_headers()
        if fault is not None and fault.kind == "drop":
            self.wfile.write(payload[: len(payload) // 2])
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(2)
            return
        self.wfile.write(payload)

    def _params(self) -> dict[str, str]:
        query = urlparse(self.path).query
        return {k: v[-1] for k, v in parse_qs(query, keep_blank_values=True).items()}

    def _authorised(self) -> bool:
        auth = self.headers.get("Authorization", "")
        if not auth.startswith("Bearer ") or not auth[7:].strip():
            return False
        return self.sandbox.token is None or auth[7:] == self.sandbox.token

    def _fault_response(self, fault: Fault) -> _Problem | None:
        if fault.kind == "429":
            if fault.reset_in is None:  # no reset header at all
                return _Problem(429, PROBLEMS[429], {"x-rate-limit-reset": "",
                                                     "x-rate-limit-remaining": "0"})
            reset = int(time.time() + fault.reset_in + 0.999)
            return _Problem(429, PROBLEMS[429], {"x-rate-limit-reset": str(reset),
                                                 "x-rate-limit-remaining": "0"})
        if fault.kind == "usage_cap":
            return _Problem(429, PROBLEMS["usage_cap"])
        if fault.kind in ("401", "403", "503"):
            return _Problem(int(fault.kind), PROBLEMS[int(fault.kind)])
        return None  # drop / truncate: applied to a normal response

    def _handle(self, method: str) -> None:
        path = urlparse(self.path).path
        params = self._params()
        with self.sandbox._lock:
            self.sandbox.requests.append({"method": method, "path": path, "params": params,
                                          "at": time.monotonic(), "wall": time.time()})
        fault = self.sandbox.faults.take(path)
        try:
            if path.startswith(compliance.PREFIXES):  # batch compliance: sandbox/x_compliance.py
                compliance.compliance_for(self.sandbox).handle(self, method, path, params, fault)
                return
            if not self._authorised():
                raise _Problem(401, PROBLEMS[401])
            if fault is not None:
                problem = self._fault_response(fault)
                if problem is not None:
                    raise problem
            if method == "GET" and path in COUNTS_PATHS:
                body = self.sandbox.counts(COUNTS_PATHS[path], params)
                self.sandbox.bill(f"counts_{COUNTS_PATHS[path]}", 1, fault)
                self._send(200, body, fault=fault)
            elif method == "GET" and path in SEARCH_PATHS:
                body = self.sandbox.search(SEARCH_PATHS[path], params)
                self.sandbox.bill("posts_read", body["meta"]["result_count"], fault)
                self._send(200, body, fault=fault)
            elif path == "/2/tweets/search/stream/rules":
                if method == "GET":
                    self._send(200, self.sandbox.rules_get(), fault=fault)
                else:
                    length = int(self.headers.get("content-length", "0"))
                    body = json.loads(self.rfile.read(length) or b"{}")
                    self._send(200, self.sandbox.rules_post(body), fault=fault)
            elif method == "GET" and path == "/2/tweets/search/stream":
                self._stream(params)
            else:
                raise _Problem(404, {"title": "Not Found Error", "type": "about:blank",
                                     "status": 404, "detail": f"no route {method} {path}"})
        except _Problem as problem:
            self._send(problem.status, problem.body, problem.headers)

    def do_GET(self) -> None:  # noqa: N802
        self._handle("GET")

    def do_POST(self) -> None:  # noqa: N802
        self._handle("POST")

    def do_PUT(self) -> None:  # noqa: N802 (the compliance upload URL)
        self._handle("PUT")

    # ---- filtered stream --------------------------------------------------
    def _stream(self, params: dict[str, str]) -> None:
        sandbox = self.sandbox
        self.send_response(200)
        self.send_header("content-type", "application/json; charset=utf-8")
        self.send_header("transfer-encoding", "chunked")
        self.end_headers()
        last_ms = int(sandbox.clock().timestamp() * 1000)
        last_beat = time.monotonic()
        self.close_connection = True
        try:
            while not sandbox._stopping.is_set():
                time.sleep(sandbox.stream_interval)
                now_ms = int(sandbox.clock().timestamp() * 1000)
                lines = []
                for post, rules in sandbox.stream_posts(last_ms, now_ms):
                    body = sandbox.render([post], params, now_ms)
                    line = {"data": body["data"][0], "matching_rules": rules}
                    if "includes" in body:
                        line["includes"] = body["includes"]
                    if "errors" in body:  # an expansion X could not deliver (a deleted quoted post)
                        line["errors"] = body["errors"]
                    lines.append(json.dumps(line, ensure_ascii=False) + "\r\n")
                last_ms = now_ms
                if not lines and time.monotonic() - last_beat > 2:
                    lines = ["\r\n"]
                for line in lines:
                    data = line.encode()
                    self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
                if lines:
                    last_beat = time.monotonic()
                    self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError, OSError):
            return
