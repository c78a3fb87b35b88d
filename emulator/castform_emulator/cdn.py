"""A small CDN data plane: requests to https://<distribution DomainName>/... answered from the
distribution's origins by its cache behaviours, with an edge cache that honours TTLs and is purged
only when an invalidation completes (cloudfront.py), so a stale file after a deploy is visible.

What it models:
  - Host routing on `<label>.cloudfront.<LOCALSTACK_HOST>`; a disabled or unknown distribution
    answers 403/404. DefaultRootObject for "/".
  - Cache behaviours in order, PathPattern with `*` and `?` (as CloudFront matches them), then the
    default; AllowedMethods (403 otherwise); redirect-to-https / https-only viewer policies.
  - TTLs: the managed cache policies castform uses (CachingOptimized: min 1 s, default 86400 s,
    max 1 year; CachingDisabled: 0; Elemental-MediaPackage: min 0, default 86400, max 1 year),
    legacy ForwardedValues MinTTL/DefaultTTL/MaxTTL, and the origin's Cache-Control max-age /
    s-maxage / no-store clamped to them
    (https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/Expiration.html; the
    managed policies' values from "Use managed cache policies",
    https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/using-managed-cache-policies.html).
  - S3 origins read through the emulator's S3. With an origin access control, the bucket policy
    must allow the cloudfront.amazonaws.com service principal s3:GetObject (with an AWS:SourceArn
    condition naming this distribution, if it has one), else 403 AccessDenied; a missing key is a
    403 too unless the policy also grants s3:ListBucket, as S3 answers CloudFront ("If the object
    you request doesn't exist, the error that Amazon S3 returns depends on whether you also have
    the s3:ListBucket permission", https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html).
  - Errors are cached for 10 s, CloudFront's default error-caching minimum TTL.
  - Custom origins: a Lambda Function URL or MediaPackage endpoint of this emulator (proxied on
    loopback); any other host is answered 502 and never contacted.
  - Response headers policies' security headers; X-Cache, Age and Via headers.
  - AWS WAF: the web ACL of WebACLId, before the cache (waf.py: rate-based rules).
  - CloudFront Functions on viewer requests: the LIVE stage, run by node (cffunction.mjs) with
    AWS's event and the associated KeyValueStore; a response it returns goes to the viewer,
    a request goes on with its new uri; a function that fails answers 503.
What it does not model: Lambda@Edge and viewer-response functions (a behaviour with one answers
501, saying so), signed URLs, geo restriction, compression, origin groups,
custom error responses, query-string and header cache keys (the key is the path), TLS versions.
"""
import fnmatch
import hashlib
import json
import os
import subprocess
import logging
import time
import uuid

from castform_emulator.common import LOCK

LOG = logging.getLogger(__name__)

CACHE: dict = {}  # (distribution id, path) -> (expires_at, stored_at, status, headers, body)
_installed = False

MANAGED_POLICIES = {
    "658327ea-f89d-4fab-a63d-7e88639e58f6": (1, 86400, 31536000),  # CachingOptimized
    "4135ea2d-6df8-44a3-9df3-4b5a84be39ad": (0, 0, 0),  # CachingDisabled
    "08627262-05a9-4f76-9ded-b50ca2e3a84f": (0, 86400, 31536000),  # Elemental-MediaPackage
    "b2884449-e4de-46a7-ac36-70bc7f1ddd6d": (1, 86400, 31536000),  # CachingOptimizedForUncompressedObjects
}


def install():
    """Registers the host routes on LocalStack's gateway router (once)."""
    global _installed
    with LOCK:
        if _installed:
            return
        _installed = True
    from localstack.services.edge import ROUTER

    ROUTER.add("/", host="<label>.cloudfront.<regex('.*'):server>", endpoint=serve_distribution, defaults={"path": ""})
    ROUTER.add("/<path:path>", host="<label>.cloudfront.<regex('.*'):server>", endpoint=serve_distribution)
    ROUTER.add("/<path:path>", host="<label>.mediapackage.<region>.<regex('.*'):server>", endpoint=serve_mediapackage)


def purge(dist_id, paths):
    with LOCK:
        for key in list(CACHE):
            if key[0] == dist_id and any(fnmatch.fnmatchcase(key[1], p) or key[1] == p for p in paths):
                del CACHE[key]


def _response(status, body=b"", headers=None):
    from localstack.http import Response

    r = Response(body, status=status)
    for k, v in (headers or {}).items():
        r.headers[k] = v
    return r


def _error(status, code, message):
    body = f"<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>{code}</Code><Message>{message}</Message></Error>"
    return _response(status, body.encode(), {"Content-Type": "application/xml", "X-Cache": f"Error from cloudfront"})


def _find(label):
    from castform_emulator import cloudfront

    with LOCK:
        for acct_id, acct in cloudfront.ACCOUNTS.items():
            for dist_id, d in acct.distributions.items():
                if d["domain"].split(".", 1)[0] == label.lower():
                    return acct_id, acct, dist_id, d
    return None


def _behavior(config, path):
    for b in (config.get("CacheBehaviors") or {}).get("Items") or []:
        if fnmatch.fnmatchcase(path, b["PathPattern"] if b["PathPattern"].startswith("/") else "/" + b["PathPattern"]):
            return b
    return config["DefaultCacheBehavior"]


def _ttls(behavior):
    if behavior.get("CachePolicyId") in MANAGED_POLICIES:
        return MANAGED_POLICIES[behavior["CachePolicyId"]]
    if behavior.get("CachePolicyId"):
        return (1, 86400, 31536000)
    return (int(behavior.get("MinTTL") or 0), int(behavior.get("DefaultTTL") or 86400), int(behavior.get("MaxTTL") or 31536000))


def _ttl(behavior, headers):
    low, default, high = _ttls(behavior)
    cc = (headers.get("Cache-Control") or "").lower()
    if "no-store" in cc or "private" in cc:
        return 0 if low == 0 else low
    for directive in ("s-maxage", "max-age"):
        for part in cc.split(","):
            k, _, v = part.strip().partition("=")
            if k == directive and v.isdigit():
                return max(low, min(high, int(v)))
    return default


def serve_distribution(request, label, path="", server=None, **_kw):
    found = _find(label)
    if found is None:
        return _error(404, "NoSuchDistribution", "The request could not be satisfied: no distribution has this domain name.")
    acct_id, acct, dist_id, d = found
    config = d["config"]
    if not config.get("Enabled"):
        return _error(403, "DistributionDisabled", "The distribution is disabled.")
    path = "/" + path
    if config.get("WebACLId"):
        from castform_emulator import waf

        blocked = waf.evaluate(acct_id, config["WebACLId"], request.remote_addr or "127.0.0.1", path)
        if blocked is not None:
            return _error(blocked[0], "RequestBlocked", f"The request was blocked by AWS WAF: {blocked[1]}.")
    if path == "/" and config.get("DefaultRootObject"):
        path = "/" + config["DefaultRootObject"]
    behavior = _behavior(config, path)
    if request.method not in ((behavior.get("AllowedMethods") or {}).get("Items") or ["GET", "HEAD"]):
        return _error(403, "MethodNotAllowed", f"{request.method} is not allowed by this cache behavior.")
    scheme = "https" if request.scheme == "https" or request.headers.get("X-Forwarded-Proto") == "https" else "http"
    policy = behavior.get("ViewerProtocolPolicy")
    if scheme == "http" and policy == "redirect-to-https":
        return _response(301, b"", {"Location": f"https://{request.host}{path}"})
    if scheme == "http" and policy == "https-only":
        return _error(403, "HttpsOnly", "This distribution accepts HTTPS only.")
    functions = (behavior.get("FunctionAssociations") or {}).get("Items") or []
    edge = (behavior.get("LambdaFunctionAssociations") or {}).get("Items") or []
    if edge or any(f.get("EventType") != "viewer-request" for f in functions):
        return _error(501, "NotEmulated", "castform's emulator runs CloudFront Functions on viewer requests only, "
                                          "not Lambda@Edge or viewer responses; this behavior has one, so it answers "
                                          "501 rather than skip it.")
    for association in functions:
        answered, path = _viewer_request(acct, d, dist_id, association, request, path)
        if answered is not None:
            return answered
    key = (dist_id, path)
    now = time.time()
    with LOCK:
        hit = CACHE.get(key)
    if hit and hit[0] > now:
        _, stored, status, headers, body = hit
        headers = dict(headers, **{"X-Cache": "Hit from cloudfront", "Age": str(int(now - stored))})
    else:
        status, headers, body = _from_origin(acct_id, d, dist_id, config, behavior, path, request)
        # errors are cached for 10 s by default ("Control how long CloudFront caches errors",
        # https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/custom-error-pages-expiration.html)
        ttl = _ttl(behavior, headers) if status == 200 else 10
        # only GET and HEAD responses are cached ("Caching content based on request headers":
        # CloudFront caches responses to GET and HEAD, and optionally OPTIONS)
        if ttl > 0 and status in (200, 403, 404) and request.method in ("GET", "HEAD"):
            with LOCK:
                CACHE[key] = (now + ttl, now, status, dict(headers), body)
        headers = dict(headers, **{"X-Cache": "Miss from cloudfront" if status < 400 else "Error from cloudfront"})
    headers.update(_policy_headers(acct, behavior))
    headers["Via"] = f"1.1 {uuid.uuid4().hex[:32]}.cloudfront.net (CloudFront)"
    headers["X-Amz-Cf-Id"] = uuid.uuid4().hex
    if request.method == "HEAD":
        body = b""
    return _response(status, body, headers)


def _viewer_request(acct, d, dist_id, association, request, path):
    """Runs a CloudFront Function (its LIVE stage, as a distribution does) on a viewer request:
    (a response to send, path) when it answers the viewer itself, (None, the request's new uri)
    when the request goes on. The event is AWS's
    (https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/functions-event-structure.html);
    a function that throws answers 503, as CloudFront does for a function execution error."""
    from castform_emulator import cloudfront

    name = association["FunctionARN"].rsplit("/", 1)[-1]
    with LOCK:
        f = acct.functions.get(name)
        live = f and f["live"]
        if not live:
            return _error(503, "FunctionNotPublished", f"The function {name} has no LIVE stage."), path
        items = {}
        for a in (live["config"].get("KeyValueStoreAssociations") or {}).get("Items") or []:
            store = cloudfront.kvs_by_arn(a["KeyValueStoreARN"])
            items.update(store["items"] if store else {})
    code = live["code"]
    code = code.decode("utf-8") if isinstance(code, (bytes, bytearray)) else str(code)
    event = {
        "version": "1.0",
        "context": {"distributionDomainName": d["domain"], "distributionId": dist_id,
                    "eventType": "viewer-request", "requestId": uuid.uuid4().hex},
        "viewer": {"ip": request.remote_addr or "127.0.0.1"},
        "request": {
            "method": request.method,
            "uri": path,
            "querystring": {k: {"value": v} for k, v in request.args.items()},
            "headers": {k.lower(): {"value": v} for k, v in request.headers.items()},
            "cookies": {k: {"value": v} for k, v in request.cookies.items()},
        },
    }
    runner = os.path.join(os.path.dirname(os.path.abspath(__file__)), "cffunction.mjs")
    node = os.environ.get("HOSTNODE_NODE_BIN", "node")
    try:
        done = subprocess.run([node, runner], input=json.dumps({"code": code, "event": event, "kvs": items}),
                              capture_output=True, text=True, timeout=10)
        out = json.loads(done.stdout or "{}")
    except (subprocess.TimeoutExpired, ValueError) as e:
        out = {"error": str(e)}
    if "error" in out or not isinstance(out.get("result"), dict):
        return _error(503, "FunctionExecutionError", f"The CloudFront function {name} failed: {out.get('error', 'no result')}"), path
    result = out["result"]
    if "statusCode" in result:
        headers = {k: v.get("value", "") for k, v in (result.get("headers") or {}).items()}
        body = (result.get("body") or {}).get("data", "") if isinstance(result.get("body"), dict) else (result.get("body") or "")
        headers["X-Cache"] = "FunctionGeneratedResponse from cloudfront"
        return _response(int(result["statusCode"]), body.encode() if isinstance(body, str) else body, headers), path
    return None, result.get("uri") or path


def _policy_headers(acct, behavior):
    pid = behavior.get("ResponseHeadersPolicyId")
    policy = acct.policies.get(pid) if pid else None
    if not policy:
        return {}
    sec = policy["config"].get("SecurityHeadersConfig") or {}
    out = {}
    if sec.get("StrictTransportSecurity"):
        s = sec["StrictTransportSecurity"]
        v = f"max-age={s['AccessControlMaxAgeSec']}"
        v += "; includeSubDomains" if s.get("IncludeSubdomains") else ""
        v += "; preload" if s.get("Preload") else ""
        out["Strict-Transport-Security"] = v
    if sec.get("ContentTypeOptions"):
        out["X-Content-Type-Options"] = "nosniff"
    if sec.get("FrameOptions"):
        out["X-Frame-Options"] = sec["FrameOptions"]["FrameOption"]
    if sec.get("ReferrerPolicy"):
        out["Referrer-Policy"] = sec["ReferrerPolicy"]["ReferrerPolicy"]
    if sec.get("XSSProtection"):
        x = sec["XSSProtection"]
        out["X-XSS-Protection"] = ("1" if x.get("Protection") else "0") + ("; mode=block" if x.get("ModeBlock") else "")
    for h in ((policy["config"].get("CustomHeadersConfig") or {}).get("Items") or []):
        out[h["Header"]] = h["Value"]
    return out


def _origin(config, behavior):
    for o in (config.get("Origins") or {}).get("Items") or []:
        if o["Id"] == behavior["TargetOriginId"]:
            return o
    return None


def _from_origin(acct_id, d, dist_id, config, behavior, path, request=None):
    origin = _origin(config, behavior)
    if origin is None:
        return 502, {"Content-Type": "text/plain"}, b"the cache behavior's origin does not exist"
    domain = origin["DomainName"]
    full = (origin.get("OriginPath") or "") + path
    if ".s3." in domain or domain.split(":")[0].endswith(".s3.localhost.localstack.cloud") or "S3OriginConfig" in origin:
        return _from_s3(acct_id, d, origin, domain, full)
    host = domain.split(":")[0]
    if ".mediapackage." in host:
        found = _mediapackage_playlist(host.split(".", 1)[0], full)
        return found
    if ".lambda-url." in host and host.endswith("localhost.localstack.cloud"):
        return _to_function_url(acct_id, d, origin, behavior, domain, full, request)
    return 502, {"Content-Type": "text/plain"}, f"origin {host} is not on this emulator; castform's CDN never leaves loopback".encode()


def _bucket_of(domain):
    host = domain.split(":")[0]
    return host.split(".s3", 1)[0]


def _policy_allows(policy_text, dist_arn, action):
    try:
        policy = json.loads(policy_text)
    except (TypeError, ValueError):
        return False
    for st in policy.get("Statement") or []:
        if st.get("Effect") != "Allow":
            continue
        principal = st.get("Principal") or {}
        services = principal.get("Service") if isinstance(principal, dict) else None
        services = [services] if isinstance(services, str) else services or []
        if "cloudfront.amazonaws.com" not in services:
            continue
        actions = st.get("Action")
        actions = [actions] if isinstance(actions, str) else actions or []
        if action not in actions and "s3:*" not in actions:
            continue
        cond = (st.get("Condition") or {}).get("StringEquals") or {}
        source = cond.get("AWS:SourceArn") or cond.get("aws:SourceArn")
        if source is None or source == dist_arn or (isinstance(source, list) and dist_arn in source):
            return True
    return False


def _from_s3(acct_id, d, origin, domain, key_path):
    from botocore.exceptions import ClientError
    from localstack.aws.connect import connect_to

    bucket = _bucket_of(domain)
    s3 = connect_to(aws_access_key_id=acct_id, region_name="us-east-1").s3
    key = key_path.lstrip("/")
    if origin.get("OriginAccessControlId"):
        try:
            policy = s3.get_bucket_policy(Bucket=bucket)["Policy"]
        except ClientError:
            policy = None
        if not _policy_allows(policy, d["arn"], "s3:GetObject"):
            return 403, {"Content-Type": "application/xml"}, b"<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>"
        can_list = _policy_allows(policy, d["arn"], "s3:ListBucket")
    else:
        can_list = True
    try:
        obj = s3.get_object(Bucket=bucket, Key=key)
    except ClientError as e:
        code = e.response.get("Error", {}).get("Code")
        if code in ("NoSuchKey", "404") and not can_list:
            return 403, {"Content-Type": "application/xml"}, b"<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>"
        if code in ("NoSuchKey", "404"):
            return 404, {"Content-Type": "application/xml"}, b"<Error><Code>NoSuchKey</Code></Error>"
        return 502, {"Content-Type": "text/plain"}, f"S3 origin error {code}".encode()
    headers = {"Content-Type": obj.get("ContentType") or "binary/octet-stream", "ETag": obj.get("ETag", "")}
    if obj.get("CacheControl"):
        headers["Cache-Control"] = obj["CacheControl"]
    return 200, headers, obj["Body"].read()


ALL_VIEWER_EXCEPT_HOST = "b689b0a8-53d0-40ab-baf2-68738e2966ac"


def _to_function_url(acct_id, d, origin, behavior, domain, path, request):
    """A Function URL origin: the viewer's method, query and body, the viewer headers the origin
    request policy forwards (Managed-AllViewerExceptHostHeader: all but Host; none otherwise),
    and, with an origin access control of type lambda, CloudFront's SigV4 signature as the
    cloudfront.amazonaws.com principal. For PUT and POST CloudFront signs the viewer's
    x-amz-content-sha256; without it the payload is unsigned and Lambda refuses it
    (https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/private-content-restricting-access-to-lambda.html)."""
    from castform_emulator import cloudfront, urlauth

    method = request.method if request is not None else "GET"
    body = request.get_data() if request is not None else b""
    query = request.query_string.decode() if request is not None else ""
    headers = {}
    if request is not None and behavior.get("OriginRequestPolicyId") == ALL_VIEWER_EXCEPT_HOST:
        # CloudFront's own signature replaces the viewer's (Authorization, X-Amz-Date, the
        # payload hash it signs with, a session token); hop-by-hop headers stay with the viewer's
        # connection (RFC 9110 7.6.1): a chunked upload reaches the origin with its length
        skip = {"host", "authorization", "content-length", "connection", "x-forwarded-for", "x-forwarded-proto",
                "x-amz-date", "x-amz-content-sha256", "x-amz-security-token", "transfer-encoding", "keep-alive",
                "te", "trailer", "upgrade", "proxy-connection"}
        headers = {k: v for k, v in request.headers.items() if k.lower() not in skip}
    elif request is not None and request.headers.get("Content-Type"):
        headers["Content-Type"] = request.headers["Content-Type"]
    # the origin's custom headers: "If the header exists, CloudFront overwrites the header value
    # before forwarding the request to the origin"
    # (https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/add-origin-custom-headers.html)
    for custom in (origin.get("CustomHeaders") or {}).get("Items") or []:
        headers = {k: v for k, v in headers.items() if k.lower() != custom["HeaderName"].lower()}
        headers[custom["HeaderName"]] = custom["HeaderValue"]
    oac_id = origin.get("OriginAccessControlId")
    if oac_id:
        oac = cloudfront.account(acct_id).oacs.get(oac_id)
        if oac is None or oac["config"].get("OriginAccessControlOriginType") != "lambda":
            return 502, {"Content-Type": "text/plain"}, b"the origin's access control is not of type lambda"
        region = domain.split(".lambda-url.", 1)[1].split(".", 1)[0]
        payload = (request.headers.get("X-Amz-Content-Sha256") if request is not None else None)
        if payload is None:
            payload = "UNSIGNED-PAYLOAD" if method in ("PUT", "POST") else hashlib.sha256(body).hexdigest()
        headers["X-Amz-Content-Sha256"] = payload
        headers[urlauth.SOURCE_ARN_HEADER] = d["arn"]
        url = f"https://{domain}{path}" + (f"?{query}" if query else "")
        headers = urlauth.sign(method, url, headers, body, region, urlauth.CLOUDFRONT_KEY)
    return _proxy_loopback(domain, path + (f"?{query}" if query else ""), method, headers, body)


def _proxy_loopback(domain, path, method="GET", headers=None, body=b""):
    import http.client

    from localstack import config

    port = config.GATEWAY_LISTEN[0].port
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request(method, path, body=body or None, headers=dict(headers or {}, Host=domain))
        resp = conn.getresponse()
        headers = {k: v for k, v in resp.getheaders() if k.lower() in ("content-type", "cache-control", "etag")}
        return resp.status, headers, resp.read()
    finally:
        conn.close()


# ---------------------------------------------------------------------------------------------- MediaPackage


def _live_channel_for(acct_id, region, endpoint):
    """The MediaLive channel sending to this endpoint's MediaPackage channel, and its state."""
    try:
        from moto.medialive.models import medialive_backends

        backend = medialive_backends[acct_id][region]
    except Exception:  # noqa: BLE001 - no MediaLive channels at all
        return None
    for ch in backend._channels.values():
        ch._resolve_transient_states()
        for dest in ch.destinations or []:
            for mp in dest.get("mediaPackageSettings") or dest.get("MediaPackageSettings") or []:
                if (mp.get("channelId") or mp.get("ChannelId")) == endpoint["ChannelId"]:
                    return ch
    return None


def _mediapackage_playlist(host_label, path):
    from castform_emulator import mediapackage

    found = mediapackage.endpoint_by_host(host_label)
    if found is None:
        return 404, {"Content-Type": "text/plain"}, b"no such MediaPackage endpoint"
    acct_id, region, ep = found
    if not path.startswith(f"/out/v1/{ep['_hash']}/"):
        return 404, {"Content-Type": "text/plain"}, b"not found"
    channel = _live_channel_for(acct_id, region, ep)
    if channel is None or channel.state != "RUNNING":
        return 404, {"Content-Type": "text/plain"}, b"the channel is not running: no live stream"
    seq = int(time.time() // 6)
    lines = ["#EXTM3U", "#EXT-X-VERSION:3", "#EXT-X-TARGETDURATION:6", f"#EXT-X-MEDIA-SEQUENCE:{seq}"]
    for i in range(3):
        lines += ["#EXTINF:6.000,", f"segment_{seq + i}.ts"]
    body = ("\n".join(lines) + "\n").encode()
    return 200, {"Content-Type": "application/vnd.apple.mpegurl", "Cache-Control": "max-age=5"}, body


def serve_mediapackage(request, label, region, path="", server=None, **_kw):
    status, headers, body = _mediapackage_playlist(label, "/" + path)
    return _response(status, body, headers)
