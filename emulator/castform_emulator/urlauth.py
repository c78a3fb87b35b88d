"""Function URLs with AuthType AWS_IAM, which localstack-core 2026.3.0 serves to anyone: here a
request must be SigV4-signed for the `lambda` service, and CloudFront's origin access control
signs the requests it sends to a Lambda origin.

AWS's rules:
  - "If you choose AWS_IAM ... users must sign their requests with SigV4"; an unsigned or badly
    signed request is answered 403 Forbidden (Lambda DG, "Control access to Lambda function
    URLs", https://docs.aws.amazon.com/lambda/latest/dg/urls-auth.html). Here the signature is
    recomputed with botocore's SigV4 (the emulator's credentials: any access key, secret `test`,
    as every tool here uses) and compared; an unsigned payload is refused ("Lambda doesn't
    support unsigned payloads").
  - A signed request from the account itself is allowed (identity-based policy; the emulator's
    callers are the account's root).
  - CloudFront, through an origin access control of type `lambda`, signs as the
    cloudfront.amazonaws.com service principal; the function's resource policy must allow that
    principal `lambda:InvokeFunctionUrl` with an AWS:SourceArn naming the distribution
    ("Restrict access to an AWS Lambda function URL origin",
    https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/private-content-restricting-access-to-lambda.html).
    For PUT and POST CloudFront signs with the viewer's `x-amz-content-sha256` header, so a viewer
    that sends none gets 403.
CloudFront's signature is made by cdn.py with the access key CLOUDFRONT_KEY and carries the
distribution's ARN in X-Castform-Source-Arn (a signed header), which stands for the source ARN
AWS passes internally.
"""
import hashlib
import logging
import re

LOG = logging.getLogger(__name__)

CLOUDFRONT_KEY = "CASTFORMCLOUDFRONTOAC"
SECRET = "test"
SOURCE_ARN_HEADER = "X-Castform-Source-Arn"
_AUTH = re.compile(r"AWS4-HMAC-SHA256 Credential=([^/]+)/(\d{8})/([^/]+)/([^/]+)/aws4_request, *"
                   r"SignedHeaders=([^,]+), *Signature=([0-9a-f]+)")


def sign(method, url, headers, body, region, access_key, service="lambda"):
    """Signs a request as SigV4 (what CloudFront's origin access control does); returns the headers."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    req = AWSRequest(method=method, url=url, data=body, headers=dict(headers))
    SigV4Auth(Credentials(access_key, SECRET), service, region).add_auth(req)
    return dict(req.headers.items())


def _signature_ok(request, body, region):
    """(access key, None) when the request's SigV4 signature is right, else (None, why)."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    header = request.headers.get("Authorization") or ""
    m = _AUTH.match(header)
    if not m:
        return None, "missing or malformed SigV4 Authorization header"
    key, _date, scope_region, service, signed, signature = m.groups()
    if service != "lambda" or scope_region != region:
        return None, f"signed for {service} in {scope_region}, not lambda in {region}"
    payload = request.headers.get("X-Amz-Content-Sha256")
    if request.method in ("PUT", "POST") and (not payload or payload == "UNSIGNED-PAYLOAD"):
        return None, "Lambda doesn't support unsigned payloads: send x-amz-content-sha256"
    if payload and payload != "UNSIGNED-PAYLOAD" and payload != hashlib.sha256(body).hexdigest():
        return None, "x-amz-content-sha256 does not match the body"
    names = signed.split(";")
    headers = {n: request.headers.get(n, "") for n in names if n != "host"}
    query = request.query_string.decode()
    url = f"https://{request.headers.get('Host', '')}{request.path}" + (f"?{query}" if query else "")
    req = AWSRequest(method=request.method, url=url, data=body, headers=headers)
    req.context["timestamp"] = request.headers.get("X-Amz-Date", "")
    auth = SigV4Auth(Credentials(key, SECRET), "lambda", region)
    canonical = auth.canonical_request(req)
    expected = auth.signature(auth.string_to_sign(req, canonical), req)
    if expected != signature:
        return None, "the request signature does not match"
    return key, None


def _policy_allows_cloudfront(fn, qualifier, source_arn):
    """Both actions a Function URL call needs since October 2025 (lambda:InvokeFunctionUrl and
    lambda:InvokeFunction, https://docs.aws.amazon.com/lambda/latest/dg/urls-auth.html), each
    allowed to cloudfront.amazonaws.com with AWS:SourceArn naming the distribution."""
    allowed = set()
    for key in {qualifier or "$LATEST", "$LATEST"}:
        perm = fn.permissions.get(key)
        if perm is None:
            continue
        for st in perm.policy.Statement:
            principal = st.get("Principal") or {}
            service = principal.get("Service") if isinstance(principal, dict) else principal
            if st.get("Effect") != "Allow" or service != "cloudfront.amazonaws.com":
                continue
            cond = st.get("Condition") or {}
            arns = [v.get("AWS:SourceArn") for v in cond.values() if isinstance(v, dict)]
            if source_arn in arns or any(isinstance(a, list) and source_arn in a for a in arns):
                actions = st.get("Action")
                allowed.update([actions] if isinstance(actions, str) else actions or [])
    return {"lambda:InvokeFunctionUrl", "lambda:InvokeFunction"} <= allowed


def _forbidden(why):
    from localstack.http import Response

    LOG.info("function URL refused: %s", why)
    r = Response('{"Message":"Forbidden"}', 403, mimetype="application/json")
    r.headers["x-amzn-ErrorType"] = "AccessDeniedException"
    return r


def install():
    from localstack.services.lambda_ import urlrouter
    from localstack.services.lambda_.api_utils import FULL_FN_ARN_PATTERN
    from localstack.services.lambda_.invocation.models import lambda_stores

    original = urlrouter.FunctionUrlRouter.handle_lambda_url_invocation

    def handle_lambda_url_invocation(self, request, api_id, region, **url_params):
        found = None
        for account_id in lambda_stores.keys():
            for fn in lambda_stores[account_id][region].functions.values():
                for config in fn.function_url_configs.values():
                    if config.url_id.lower() == api_id.lower():
                        found = (fn, config)
        if found is not None and found[1].auth_type == "AWS_IAM":
            fn, config = found
            body = request.get_data()
            key, why = _signature_ok(request, body, region)
            if key is None:
                return _forbidden(why)
            if key == CLOUDFRONT_KEY:
                qualifier = FULL_FN_ARN_PATTERN.search(config.function_arn).groupdict().get("qualifier")
                source = request.headers.get(SOURCE_ARN_HEADER, "")
                if not _policy_allows_cloudfront(fn, qualifier, source):
                    return _forbidden(f"the resource policy does not allow cloudfront.amazonaws.com from {source}")
        return original(self, request, api_id, region, **url_params)

    urlrouter.FunctionUrlRouter.handle_lambda_url_invocation = handle_lambda_url_invocation
