"""AWS WAF in front of a distribution: the web ACL its WebACLId names (moto's WAFv2 backend,
scope CLOUDFRONT) is evaluated on every viewer request before the cache, as CloudFront does.

What it models: rules in priority order; a rate-based rule aggregated by the client's IP over its
EvaluationWindowSec (default 300 s), counting the requests its scope-down statement matches, and
once the count is over Limit, its action: Block with its CustomResponse code (403 without one),
or Count/Allow. Scope-down statements: ByteMatchStatement on UriPath (STARTS_WITH, ENDS_WITH,
CONTAINS, EXACTLY). The default action (Allow or Block).
(https://docs.aws.amazon.com/waf/latest/developerguide/waf-rule-statement-type-rate-based.html)
What it does not: AWS WAF estimates rates and acts within a few seconds of the limit being
passed; here the request over the limit is the first one blocked, exactly. Any other statement
answers 501, saying so, rather than being skipped.
"""
import base64
import collections
import time

from castform_emulator.common import LOCK

SEEN: dict = collections.defaultdict(collections.deque)  # (acl arn, rule, ip) -> request times


def _acl(acct_id, arn):
    from moto.wafv2.models import wafv2_backends

    for backend in wafv2_backends[acct_id].values():
        if arn in backend.wacls:
            return backend.wacls[arn]
    return None


def _matches(statement, path):
    """True/False for the statements this module knows; None for any other."""
    if not statement:
        return True
    byte = statement.get("ByteMatchStatement")
    if byte and "UriPath" in (byte.get("FieldToMatch") or {}):
        # a blob: moto keeps the JSON wire form, base64, as the API sent it
        s = byte.get("SearchString", "")
        try:
            s = base64.b64decode(s, validate=True).decode()
        except (ValueError, UnicodeDecodeError):
            pass
        return {
            "STARTS_WITH": path.startswith(s),
            "ENDS_WITH": path.endswith(s),
            "CONTAINS": s in path,
            "EXACTLY": path == s,
        }.get(byte.get("PositionalConstraint"))
    return None


def evaluate(acct_id, web_acl_arn, ip, path):
    """None to let the request on, or (status, reason) to answer it with."""
    acl = _acl(acct_id, web_acl_arn)
    if acl is None:
        return 403, f"the distribution's web ACL {web_acl_arn} does not exist"
    now = time.time()
    for rule in sorted(acl.rules, key=lambda r: r.priority):
        rate = (rule.statement or {}).get("RateBasedStatement")
        if rate is None:
            return 501, f"castform's emulator evaluates only rate-based rules; rule {rule.name} is another kind"
        if rate.get("AggregateKeyType", "IP") != "IP":
            return 501, f"rule {rule.name} aggregates by {rate.get('AggregateKeyType')}; the emulator knows IP only"
        scoped = _matches(rate.get("ScopeDownStatement"), path)
        if scoped is None:
            return 501, f"rule {rule.name}'s scope-down statement is not one the emulator evaluates"
        if not scoped:
            continue
        window = int(rate.get("EvaluationWindowSec") or 300)
        with LOCK:
            seen = SEEN[(web_acl_arn, rule.name, ip)]
            while seen and seen[0] <= now - window:
                seen.popleft()
            seen.append(now)
            over = len(seen) > int(rate["Limit"])
        if not over:
            continue
        action = rule.action or {}
        if "Block" in action:
            code = ((action["Block"] or {}).get("CustomResponse") or {}).get("ResponseCode", 403)
            return int(code), f"rate limit of rule {rule.name}: over {rate['Limit']} requests in {window} s from {ip}"
        if "Allow" in action:
            return None
    if "Block" in (acl.default_action or {}):
        return 403, "blocked by the web ACL's default action"
    return None
