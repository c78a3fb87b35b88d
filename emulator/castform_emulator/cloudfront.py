"""CloudFront's control plane, served by the add-on itself (not moto).

moto-ext 5.1.28 keeps only part of a DistributionConfig (it drops OriginAccessControlId and
S3OriginConfig, cannot take its own GetDistributionConfig output back) and has no Functions,
ResponseHeadersPolicies or KeyValueStores. LocalStack's parser hands each request over as a dict
shaped like botocore's input shape, and its serializer writes a dict shaped like the output shape
back as AWS's XML, so keeping the request's config as it came and answering with it is exact.

Served: distributions (with tags), invalidations, origin access controls, response headers
policies, functions (DEVELOPMENT and LIVE stages), key value stores. Other operations answer 501.

AWS rules kept here, each from the API reference:
  - DeleteDistribution: "Before you can delete a distribution, you must disable it" (409
    DistributionNotDisabled; 412 PreconditionFailed on a stale If-Match; 400 InvalidIfMatchVersion
    without one): https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_DeleteDistribution.html
  - a distribution's Status is InProgress after a create or update and Deployed once propagated;
    an invalidation is InProgress, then Completed "when the invalidation batch is finished"
    (GetInvalidation). Both delays are short here (CASTFORM_CDN_DEPLOY_SECONDS, default 1;
    CASTFORM_CDN_INVALIDATION_SECONDS, default 2) and the edge cache (cdn.py) is purged only
    when the invalidation completes, as on AWS.
  - Update and delete of every resource need the current ETag in If-Match.
  - An origin access control, response headers policy, function or key value store that a
    distribution (or function) uses cannot be deleted: 409 OriginAccessControlInUse,
    ResponseHeadersPolicyInUse, FunctionInUse, CannotDeleteEntityWhileInUse, the codes the API
    reference lists for DeleteOriginAccessControl, DeleteResponseHeadersPolicy, DeleteFunction and
    DeleteKeyValueStore (https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_Operations_Amazon_CloudFront.html).

Domain names are `d<13 chars>.cloudfront.<LOCALSTACK_HOST>` (AWS: `d<13>.cloudfront.net`), so
https://<DomainName>/ reaches this emulator's CDN data plane (cdn.py) on loopback.
"""
import copy
import os
import random
import string
import uuid
from datetime import datetime, timezone

from localstack.aws.api import CommonServiceException

from castform_emulator.common import LOCK, error, etag, host_suffix, not_found, now, upper_id

DEPLOY_SECONDS = float(os.environ.get("CASTFORM_CDN_DEPLOY_SECONDS", "1"))
INVALIDATION_SECONDS = float(os.environ.get("CASTFORM_CDN_INVALIDATION_SECONDS", "2"))


class Account:
    def __init__(self):
        self.distributions = {}  # id -> dict(config, etag, created, modified, deployed_at, domain, tags)
        self.invalidations = {}  # dist id -> [dict]
        self.oacs = {}
        self.policies = {}
        self.functions = {}  # name -> dict(dev, live, etag, created, modified)
        self.kvs = {}  # name -> dict
        self.tags = {}  # arn -> {key: value}


ACCOUNTS: dict[str, Account] = {}


def account(account_id: str) -> Account:
    with LOCK:
        return ACCOUNTS.setdefault(account_id, Account())


def _ts(t: float) -> datetime:
    return datetime.fromtimestamp(t, tz=timezone.utc)


def _check_if_match(current: str, request, kind: str):
    given = request.get("IfMatch")
    if not given:
        raise error("InvalidIfMatchVersion", "The If-Match version is missing or not valid for the resource.", 400)
    if given != current:
        raise error("PreconditionFailed", f"The If-Match version {given} does not match the current {kind} version.", 412)


# ---------------------------------------------------------------------------------------------- distributions


def _dist(acct: Account, dist_id: str) -> dict:
    d = acct.distributions.get(dist_id)
    if d is None:
        raise not_found("NoSuchDistribution", "The specified distribution does not exist.")
    return d


def distribution_status(d: dict) -> str:
    return "Deployed" if now() >= d["deployed_at"] else "InProgress"


def _in_progress_invalidations(acct: Account, dist_id: str) -> int:
    return sum(1 for i in acct.invalidations.get(dist_id, []) if invalidation_status(i) == "InProgress")


def _distribution(context, acct: Account, dist_id: str) -> dict:
    d = acct.distributions[dist_id]
    return {
        "Id": dist_id,
        "ARN": d["arn"],
        "Status": distribution_status(d),
        "LastModifiedTime": _ts(d["modified"]),
        "InProgressInvalidationBatches": _in_progress_invalidations(acct, dist_id),
        "DomainName": d["domain"],
        "ActiveTrustedSigners": {"Enabled": False, "Quantity": 0},
        "ActiveTrustedKeyGroups": {"Enabled": False, "Quantity": 0},
        "DistributionConfig": copy.deepcopy(d["config"]),
    }


def _check_references(acct: Account, config: dict):
    """AWS refuses a config naming an origin access control, response headers policy or function
    that does not exist (NoSuchOriginAccessControl, NoSuchResponseHeadersPolicy, NoSuchFunctionExists)."""
    for origin in (config.get("Origins") or {}).get("Items") or []:
        oac = origin.get("OriginAccessControlId")
        if oac and oac not in acct.oacs:
            raise not_found("NoSuchOriginAccessControl", f"The origin access control {oac} does not exist.")
    for b in _behaviors(config):
        pid = b.get("ResponseHeadersPolicyId")
        if pid and pid not in acct.policies:
            raise not_found("NoSuchResponseHeadersPolicy", f"The response headers policy {pid} does not exist.")
        for f in (b.get("FunctionAssociations") or {}).get("Items") or []:
            name = f.get("FunctionARN", "").rsplit("/", 1)[-1]
            if name not in acct.functions or acct.functions[name]["live"] is None:
                raise error("InvalidFunctionAssociation", f"The function {f.get('FunctionARN')} is not published.", 400)


def _behaviors(config: dict) -> list:
    return [config.get("DefaultCacheBehavior") or {}] + list((config.get("CacheBehaviors") or {}).get("Items") or [])


def _new_domain() -> str:
    label = "d" + "".join(random.choices(string.ascii_lowercase + string.digits, k=13))
    return f"{label}.cloudfront.{host_suffix()}"


def create_distribution(context, request):
    return _create_distribution(context, request["DistributionConfig"], {})


def create_distribution_with_tags(context, request):
    cfg = request["DistributionConfigWithTags"]
    tags = {t["Key"]: t.get("Value", "") for t in (cfg.get("Tags") or {}).get("Items") or []}
    return _create_distribution(context, cfg["DistributionConfig"], tags)


def _create_distribution(context, config, tags):
    acct = account(context.account_id)
    with LOCK:
        for d in acct.distributions.values():
            if d["config"].get("CallerReference") == config.get("CallerReference"):
                raise error("DistributionAlreadyExists", "The caller reference you attempted to create the distribution with is associated with another distribution.", 409)
        _check_references(acct, config)
        dist_id = upper_id()
        t = now()
        acct.distributions[dist_id] = {
            "config": copy.deepcopy(config),
            "etag": etag((dist_id, t)),
            "created": t,
            "modified": t,
            "deployed_at": t + DEPLOY_SECONDS,
            "domain": _new_domain(),
            "arn": f"arn:aws:cloudfront::{context.account_id}:distribution/{dist_id}",
        }
        if tags:
            acct.tags[acct.distributions[dist_id]["arn"]] = dict(tags)
        d = acct.distributions[dist_id]
        return {
            "Distribution": _distribution(context, acct, dist_id),
            "Location": f"https://cloudfront.amazonaws.com/2020-05-31/distribution/{dist_id}",
            "ETag": d["etag"],
        }


def get_distribution(context, request):
    acct = account(context.account_id)
    d = _dist(acct, request["Id"])
    return {"Distribution": _distribution(context, acct, request["Id"]), "ETag": d["etag"]}


def get_distribution_config(context, request):
    d = _dist(account(context.account_id), request["Id"])
    return {"DistributionConfig": copy.deepcopy(d["config"]), "ETag": d["etag"]}


def update_distribution(context, request):
    acct = account(context.account_id)
    with LOCK:
        d = _dist(acct, request["Id"])
        _check_if_match(d["etag"], request, "distribution")
        config = request["DistributionConfig"]
        if config.get("CallerReference") != d["config"].get("CallerReference"):
            raise error("IllegalUpdate", "The CallerReference of a distribution cannot be changed.", 400)
        _check_references(acct, config)
        t = now()
        d.update(config=copy.deepcopy(config), etag=etag((request["Id"], t, "u")), modified=t, deployed_at=t + DEPLOY_SECONDS)
        return {"Distribution": _distribution(context, acct, request["Id"]), "ETag": d["etag"]}


def delete_distribution(context, request):
    acct = account(context.account_id)
    with LOCK:
        d = _dist(acct, request["Id"])
        _check_if_match(d["etag"], request, "distribution")
        if d["config"].get("Enabled") or distribution_status(d) != "Deployed":
            raise error("DistributionNotDisabled", "The distribution you are trying to delete has not been disabled.", 409)
        del acct.distributions[request["Id"]]
        acct.invalidations.pop(request["Id"], None)
        acct.tags.pop(d["arn"], None)
        from castform_emulator import cdn

        cdn.purge(request["Id"], ["/*"])
        return {}


def _summary(acct, dist_id):
    d = acct.distributions[dist_id]
    c = d["config"]
    return {
        "Id": dist_id,
        "ARN": d["arn"],
        "Status": distribution_status(d),
        "LastModifiedTime": _ts(d["modified"]),
        "DomainName": d["domain"],
        "Aliases": c.get("Aliases") or {"Quantity": 0},
        "Origins": c.get("Origins"),
        "OriginGroups": c.get("OriginGroups") or {"Quantity": 0},
        "DefaultCacheBehavior": c.get("DefaultCacheBehavior"),
        "CacheBehaviors": c.get("CacheBehaviors") or {"Quantity": 0},
        "CustomErrorResponses": c.get("CustomErrorResponses") or {"Quantity": 0},
        "Comment": c.get("Comment", ""),
        "PriceClass": c.get("PriceClass", "PriceClass_All"),
        "Enabled": c.get("Enabled", False),
        "ViewerCertificate": c.get("ViewerCertificate") or {"CloudFrontDefaultCertificate": True},
        "Restrictions": c.get("Restrictions") or {"GeoRestriction": {"RestrictionType": "none", "Quantity": 0}},
        "WebACLId": c.get("WebACLId", ""),
        "HttpVersion": c.get("HttpVersion", "http2"),
        "IsIPV6Enabled": c.get("IsIPV6Enabled", False),
        "Staging": c.get("Staging", False),
    }


def list_distributions(context, request):
    acct = account(context.account_id)
    items = [_summary(acct, i) for i in sorted(acct.distributions)]
    return {"DistributionList": {"Marker": "", "MaxItems": 100, "IsTruncated": False, "Quantity": len(items), "Items": items}}


# ---------------------------------------------------------------------------------------------- invalidations


def invalidation_status(inv: dict) -> str:
    if now() >= inv["completes_at"]:
        if not inv.get("purged"):
            from castform_emulator import cdn

            cdn.purge(inv["distribution"], inv["batch"]["Paths"].get("Items") or [])
            inv["purged"] = True
        return "Completed"
    return "InProgress"


def _invalidation(inv):
    return {"Id": inv["id"], "Status": invalidation_status(inv), "CreateTime": _ts(inv["created"]), "InvalidationBatch": inv["batch"]}


def create_invalidation(context, request):
    acct = account(context.account_id)
    with LOCK:
        _dist(acct, request["DistributionId"])
        batch = request["InvalidationBatch"]
        t = now()
        inv = {"id": "I" + upper_id(13)[1:], "created": t, "completes_at": t + INVALIDATION_SECONDS,
               "batch": batch, "distribution": request["DistributionId"]}
        acct.invalidations.setdefault(request["DistributionId"], []).append(inv)
        return {
            "Location": f"https://cloudfront.amazonaws.com/2020-05-31/distribution/{request['DistributionId']}/invalidation/{inv['id']}",
            "Invalidation": _invalidation(inv),
        }


def get_invalidation(context, request):
    acct = account(context.account_id)
    _dist(acct, request["DistributionId"])
    for inv in acct.invalidations.get(request["DistributionId"], []):
        if inv["id"] == request["Id"]:
            return {"Invalidation": _invalidation(inv)}
    raise not_found("NoSuchInvalidation", "The specified invalidation does not exist.")


def list_invalidations(context, request):
    acct = account(context.account_id)
    _dist(acct, request["DistributionId"])
    items = [{"Id": i["id"], "CreateTime": _ts(i["created"]), "Status": invalidation_status(i)}
             for i in reversed(acct.invalidations.get(request["DistributionId"], []))]
    return {"InvalidationList": {"Marker": "", "MaxItems": 100, "IsTruncated": False, "Quantity": len(items), "Items": items}}


# ---------------------------------------------------------------------------------------------- simple configs
# Origin access controls and response headers policies: an id, a config, an ETag.


def _simple(kind_key, config_key, missing_code, in_use_code, uses):
    def store(context):
        return getattr(account(context.account_id), kind_key)

    def get_one(context, rid):
        item = store(context).get(rid)
        if item is None:
            raise not_found(missing_code, f"The specified {config_key[:-6]} {rid} does not exist.")
        return item

    def shape(rid, item):
        out = {"Id": rid, config_key: copy.deepcopy(item["config"])}
        if kind_key == "policies":
            out["LastModifiedTime"] = _ts(item["modified"])
        return out

    def create(context, request):
        with LOCK:
            name = request[config_key].get("Name")
            if any(i["config"].get("Name") == name for i in store(context).values()):
                raise error(missing_code.replace("NoSuch", "") + "AlreadyExists", f"{name} already exists.", 409)
            rid = upper_id() if kind_key == "oacs" else str(uuid.uuid4())
            t = now()
            store(context)[rid] = {"config": copy.deepcopy(request[config_key]), "etag": etag((rid, t)), "modified": t}
            item = store(context)[rid]
            return {config_key[:-6]: shape(rid, item), "Location": f"https://cloudfront.amazonaws.com/2020-05-31/{rid}", "ETag": item["etag"]}

    def get(context, request):
        item = get_one(context, request["Id"])
        return {config_key[:-6]: shape(request["Id"], item), "ETag": item["etag"]}

    def get_config(context, request):
        item = get_one(context, request["Id"])
        return {config_key: copy.deepcopy(item["config"]), "ETag": item["etag"]}

    def update(context, request):
        with LOCK:
            item = get_one(context, request["Id"])
            _check_if_match(item["etag"], request, config_key[:-6])
            t = now()
            item.update(config=copy.deepcopy(request[config_key]), etag=etag((request["Id"], t, "u")), modified=t)
            return {config_key[:-6]: shape(request["Id"], item), "ETag": item["etag"]}

    def delete(context, request):
        with LOCK:
            item = get_one(context, request["Id"])
            _check_if_match(item["etag"], request, config_key[:-6])
            acct = account(context.account_id)
            if any(uses(d["config"], request["Id"]) for d in acct.distributions.values()):
                raise error(in_use_code, f"{request['Id']} is in use by a distribution.", 409)
            del store(context)[request["Id"]]
            return {}

    return create, get, get_config, update, delete, store, shape


def _uses_oac(config, rid):
    return any(o.get("OriginAccessControlId") == rid for o in (config.get("Origins") or {}).get("Items") or [])


def _uses_policy(config, rid):
    return any(b.get("ResponseHeadersPolicyId") == rid for b in _behaviors(config))


(create_oac, get_oac, get_oac_config, update_oac, delete_oac, _oac_store, _oac_shape) = _simple(
    "oacs", "OriginAccessControlConfig", "NoSuchOriginAccessControl", "OriginAccessControlInUse", _uses_oac)
(create_policy, get_policy, get_policy_config, update_policy, delete_policy, _policy_store, _policy_shape) = _simple(
    "policies", "ResponseHeadersPolicyConfig", "NoSuchResponseHeadersPolicy", "ResponseHeadersPolicyInUse", _uses_policy)


def list_oacs(context, request):
    items = []
    for rid, item in sorted(_oac_store(context).items()):
        c = item["config"]
        items.append({"Id": rid, "Description": c.get("Description", ""), "Name": c["Name"],
                      "SigningProtocol": c["SigningProtocol"], "SigningBehavior": c["SigningBehavior"],
                      "OriginAccessControlOriginType": c["OriginAccessControlOriginType"]})
    return {"OriginAccessControlList": {"Marker": "", "MaxItems": 100, "IsTruncated": False, "Quantity": len(items), "Items": items}}


def list_policies(context, request):
    items = [{"Type": "custom", "ResponseHeadersPolicy": _policy_shape(rid, item)} for rid, item in sorted(_policy_store(context).items())]
    return {"ResponseHeadersPolicyList": {"MaxItems": 100, "Quantity": len(items), "Items": items}}


# ---------------------------------------------------------------------------------------------- functions


def _function(context, name):
    f = account(context.account_id).functions.get(name)
    if f is None:
        raise not_found("NoSuchFunctionExists", f"The function {name} does not exist.")
    return f


def function_arn(account_id, name):
    return f"arn:aws:cloudfront::{account_id}:function/{name}"


def _function_used(acct, name):
    arn_suffix = f":function/{name}"
    return any(
        any(fa.get("FunctionARN", "").endswith(arn_suffix) for fa in (b.get("FunctionAssociations") or {}).get("Items") or [])
        for d in acct.distributions.values()
        for b in _behaviors(d["config"])
    )


def _function_summary(context, name, stage):
    acct = account(context.account_id)
    f = _function(context, name)
    version = f["live"] if stage == "LIVE" else f["dev"]
    if version is None:
        raise not_found("NoSuchFunctionExists", f"The function {name} has no {stage} stage.")
    if stage == "LIVE":
        status = "DEPLOYED" if _function_used(acct, name) else "UNASSOCIATED"
    else:
        status = "UNPUBLISHED" if f["dev"] is not f["live"] else "UNASSOCIATED"
    return {
        "Name": name,
        "Status": status,
        "FunctionConfig": copy.deepcopy(version["config"]),
        "FunctionMetadata": {"FunctionARN": function_arn(context.account_id, name), "Stage": stage,
                             "CreatedTime": _ts(f["created"]), "LastModifiedTime": _ts(version["modified"])},
    }


def _check_kvs_associations(context, config):
    acct = account(context.account_id)
    arns = {k["ARN"] for k in acct.kvs.values()}
    for a in (config.get("KeyValueStoreAssociations") or {}).get("Items") or []:
        if a.get("KeyValueStoreARN") not in arns:
            raise not_found("EntityNotFound", f"The key value store {a.get('KeyValueStoreARN')} does not exist.")


def create_function(context, request):
    acct = account(context.account_id)
    with LOCK:
        name = request["Name"]
        if name in acct.functions:
            raise error("FunctionAlreadyExists", f"A function named {name} already exists.", 409)
        _check_kvs_associations(context, request["FunctionConfig"])
        t = now()
        acct.functions[name] = {
            "dev": {"config": copy.deepcopy(request["FunctionConfig"]), "code": request["FunctionCode"], "modified": t},
            "live": None, "created": t, "etag": etag((name, t)),
        }
        return {"FunctionSummary": _function_summary(context, name, "DEVELOPMENT"),
                "Location": f"https://cloudfront.amazonaws.com/2020-05-31/function/{function_arn(context.account_id, name)}",
                "ETag": acct.functions[name]["etag"]}


def describe_function(context, request):
    f = _function(context, request["Name"])
    return {"FunctionSummary": _function_summary(context, request["Name"], request.get("Stage") or "DEVELOPMENT"), "ETag": f["etag"]}


def get_function(context, request):
    f = _function(context, request["Name"])
    version = f["live"] if (request.get("Stage") or "DEVELOPMENT") == "LIVE" else f["dev"]
    if version is None:
        raise not_found("NoSuchFunctionExists", f"The function {request['Name']} has no LIVE stage.")
    return {"FunctionCode": version["code"], "ETag": f["etag"], "ContentType": "application/octet-stream"}


def update_function(context, request):
    with LOCK:
        f = _function(context, request["Name"])
        _check_if_match(f["etag"], request, "function")
        _check_kvs_associations(context, request["FunctionConfig"])
        t = now()
        f["dev"] = {"config": copy.deepcopy(request["FunctionConfig"]), "code": request["FunctionCode"], "modified": t}
        f["etag"] = etag((request["Name"], t, "u"))
        return {"FunctionSummary": _function_summary(context, request["Name"], "DEVELOPMENT"), "ETag": f["etag"]}


def publish_function(context, request):
    with LOCK:
        f = _function(context, request["Name"])
        _check_if_match(f["etag"], request, "function")
        f["live"] = f["dev"]
        return {"FunctionSummary": _function_summary(context, request["Name"], "LIVE")}


def delete_function(context, request):
    acct = account(context.account_id)
    with LOCK:
        f = _function(context, request["Name"])
        _check_if_match(f["etag"], request, "function")
        if _function_used(acct, request["Name"]):
            raise error("FunctionInUse", f"The function {request['Name']} is associated with a distribution.", 409)
        del acct.functions[request["Name"]]
        return {}


def list_functions(context, request):
    stage = request.get("Stage")
    items = []
    for name in sorted(account(context.account_id).functions):
        for s in ([stage] if stage else ["DEVELOPMENT", "LIVE"]):
            try:
                items.append(_function_summary(context, name, s))
            except CommonServiceException:
                pass
    return {"FunctionList": {"MaxItems": 100, "Quantity": len(items), "Items": items}}


# ---------------------------------------------------------------------------------------------- key value stores


def _kvs(context, name):
    k = account(context.account_id).kvs.get(name)
    if k is None:
        raise not_found("EntityNotFound", f"The key value store {name} does not exist.")
    return k


def _kvs_shape(k):
    return {"Name": k["Name"], "Id": k["Id"], "Comment": k["Comment"], "ARN": k["ARN"],
            "Status": "READY" if now() >= k["ready_at"] else "PROVISIONING", "LastModifiedTime": _ts(k["modified"])}


def kvs_by_arn(arn):
    with LOCK:
        for acct in ACCOUNTS.values():
            for k in acct.kvs.values():
                if k["ARN"] == arn or k["Id"] == arn:
                    return k
    return None


def create_kvs(context, request):
    acct = account(context.account_id)
    with LOCK:
        name = request["Name"]
        if name in acct.kvs:
            raise error("EntityAlreadyExists", f"The key value store {name} already exists.", 409)
        kid = str(uuid.uuid4())
        t = now()
        acct.kvs[name] = {"Name": name, "Id": kid, "Comment": request.get("Comment", ""),
                          "ARN": f"arn:aws:cloudfront::{context.account_id}:key-value-store/{kid}",
                          "modified": t, "ready_at": t + DEPLOY_SECONDS, "etag": etag((kid, t)), "items": {},
                          "data_etag": etag((kid, t, "data"))}
        k = acct.kvs[name]
        return {"KeyValueStore": _kvs_shape(k), "ETag": k["etag"],
                "Location": f"https://cloudfront.amazonaws.com/2020-05-31/key-value-store/{kid}"}


def describe_kvs(context, request):
    k = _kvs(context, request["Name"])
    return {"KeyValueStore": _kvs_shape(k), "ETag": k["etag"]}


def update_kvs(context, request):
    with LOCK:
        k = _kvs(context, request["Name"])
        _check_if_match(k["etag"], request, "key value store")
        t = now()
        k.update(Comment=request.get("Comment", ""), modified=t, etag=etag((k["Id"], t, "u")))
        return {"KeyValueStore": _kvs_shape(k), "ETag": k["etag"]}


def delete_kvs(context, request):
    acct = account(context.account_id)
    with LOCK:
        k = _kvs(context, request["Name"])
        _check_if_match(k["etag"], request, "key value store")
        for f in acct.functions.values():
            for version in (f["dev"], f["live"]):
                assoc = ((version or {}).get("config") or {}).get("KeyValueStoreAssociations") or {}
                if any(a.get("KeyValueStoreARN") == k["ARN"] for a in assoc.get("Items") or []):
                    raise error("CannotDeleteEntityWhileInUse", f"The key value store {k['Name']} is associated with a function.", 409)
        del acct.kvs[request["Name"]]
        return {}


def list_kvs(context, request):
    items = [_kvs_shape(k) for _, k in sorted(account(context.account_id).kvs.items())]
    return {"KeyValueStoreList": {"NextMarker": "", "MaxItems": 100, "Quantity": len(items), "Items": items}}


# ---------------------------------------------------------------------------------------------- tags


def _tag_target(context, arn):
    acct = account(context.account_id)
    if not any(d["arn"] == arn for d in acct.distributions.values()):
        raise not_found("NoSuchResource", f"The resource {arn} does not exist.")
    return acct


def tag_resource(context, request):
    acct = _tag_target(context, request["Resource"])
    with LOCK:
        tags = acct.tags.setdefault(request["Resource"], {})
        for t in (request.get("Tags") or {}).get("Items") or []:
            tags[t["Key"]] = t.get("Value", "")
    return {}


def untag_resource(context, request):
    acct = _tag_target(context, request["Resource"])
    with LOCK:
        tags = acct.tags.setdefault(request["Resource"], {})
        for k in (request.get("TagKeys") or {}).get("Items") or []:
            tags.pop(k, None)
    return {}


def list_tags(context, request):
    acct = _tag_target(context, request["Resource"])
    tags = acct.tags.get(request["Resource"], {})
    return {"Tags": {"Items": [{"Key": k, "Value": v} for k, v in sorted(tags.items())]}}


OVERRIDES = {
    "CreateDistribution": create_distribution,
    "CreateDistributionWithTags": create_distribution_with_tags,
    "GetDistribution": get_distribution,
    "GetDistributionConfig": get_distribution_config,
    "UpdateDistribution": update_distribution,
    "DeleteDistribution": delete_distribution,
    "ListDistributions": list_distributions,
    "CreateInvalidation": create_invalidation,
    "GetInvalidation": get_invalidation,
    "ListInvalidations": list_invalidations,
    "CreateOriginAccessControl": create_oac,
    "GetOriginAccessControl": get_oac,
    "GetOriginAccessControlConfig": get_oac_config,
    "UpdateOriginAccessControl": update_oac,
    "DeleteOriginAccessControl": delete_oac,
    "ListOriginAccessControls": list_oacs,
    "CreateResponseHeadersPolicy": create_policy,
    "GetResponseHeadersPolicy": get_policy,
    "GetResponseHeadersPolicyConfig": get_policy_config,
    "UpdateResponseHeadersPolicy": update_policy,
    "DeleteResponseHeadersPolicy": delete_policy,
    "ListResponseHeadersPolicies": list_policies,
    "CreateFunction": create_function,
    "DescribeFunction": describe_function,
    "GetFunction": get_function,
    "UpdateFunction": update_function,
    "PublishFunction": publish_function,
    "DeleteFunction": delete_function,
    "ListFunctions": list_functions,
    "CreateKeyValueStore": create_kvs,
    "DescribeKeyValueStore": describe_kvs,
    "UpdateKeyValueStore": update_kvs,
    "DeleteKeyValueStore": delete_kvs,
    "ListKeyValueStores": list_kvs,
    "TagResource": tag_resource,
    "UntagResource": untag_resource,
    "ListTagsForResource": list_tags,
}
