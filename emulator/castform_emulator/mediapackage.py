"""MediaPackage (v1) channels and origin endpoints, served by the add-on itself.

moto-ext 5.1.28's MediaPackage has ARNs without region or account, an empty HlsIngest, a URL on
amazonaws.com and no UpdateChannel or tagging. Here: ARNs of AWS's form
(arn:aws:mediapackage:<region>:<account>:channels/<hash>, .../origin_endpoints/<hash>), ingest
endpoints with generated credentials, and endpoint URLs of AWS's form on the emulator's loopback
host: https://<hash>.mediapackage.<region>.<LOCALSTACK_HOST>/out/v1/<hash>/<manifest>.m3u8.

The data plane (cdn.py) answers those URLs: a live HLS playlist while a MediaLive channel that
sends to this MediaPackage channel is RUNNING, 404 otherwise. No video is produced.

AWS rule kept: "You must delete the channel's endpoints ... before you can delete the channel"
(https://docs.aws.amazon.com/mediapackage/latest/ug/channels-delete.html); refused here with
422 UnprocessableEntityException, a code the model lists for DeleteChannel.
"""
import copy
import secrets

from castform_emulator.common import LOCK, error, host_suffix, lower_hex, not_found

STORES: dict = {}  # (account, region) -> {"channels": {}, "endpoints": {}, "tags": {}}


def store(context):
    with LOCK:
        return STORES.setdefault((context.account_id, context.region), {"channels": {}, "endpoints": {}, "tags": {}})


def _tags(s, arn):
    return dict(s["tags"].get(arn, {}))


def _channel_shape(s, ch):
    out = {k: copy.deepcopy(v) for k, v in ch.items() if not k.startswith("_")}
    out["Tags"] = _tags(s, ch["Arn"])
    return out


def create_channel(context, request):
    s = store(context)
    with LOCK:
        cid = request["Id"]
        if cid in s["channels"]:
            raise error("UnprocessableEntityException", f"Channel {cid} already exists.", 422)
        h = lower_hex(32)
        endpoints = [
            {"Id": lower_hex(32), "Username": lower_hex(32), "Password": secrets.token_hex(16),
             "Url": f"https://{lower_hex(8)}.mediapackage.{context.region}.{host_suffix()}/in/v2/{h}/{lower_hex(32)}/channel"}
            for _ in range(2)
        ]
        ch = {"Arn": f"arn:aws:mediapackage:{context.region}:{context.account_id}:channels/{h}", "Id": cid,
              "Description": request.get("Description", ""), "HlsIngest": {"IngestEndpoints": endpoints}}
        s["channels"][cid] = ch
        if request.get("Tags"):
            s["tags"][ch["Arn"]] = dict(request["Tags"])
        return _channel_shape(s, ch)


def _channel(context, cid):
    ch = store(context)["channels"].get(cid)
    if ch is None:
        raise not_found("NotFoundException", f"channel {cid} not found")
    return ch


def describe_channel(context, request):
    return _channel_shape(store(context), _channel(context, request["Id"]))


def update_channel(context, request):
    ch = _channel(context, request["Id"])
    if "Description" in request:
        ch["Description"] = request["Description"]
    return _channel_shape(store(context), ch)


def delete_channel(context, request):
    s = store(context)
    with LOCK:
        ch = _channel(context, request["Id"])
        if any(e["ChannelId"] == ch["Id"] for e in s["endpoints"].values()):
            raise error("UnprocessableEntityException", f"Channel {ch['Id']} still has origin endpoints; delete them first.", 422)
        del s["channels"][ch["Id"]]
        s["tags"].pop(ch["Arn"], None)
        return {}


def list_channels(context, request):
    s = store(context)
    return {"Channels": [_channel_shape(s, c) for c in s["channels"].values()]}


ENDPOINT_FIELDS = ["Authorization", "CmafPackage", "DashPackage", "Description", "HlsPackage", "ManifestName",
                   "MssPackage", "Origination", "StartoverWindowSeconds", "TimeDelaySeconds", "Whitelist"]


def _endpoint_shape(s, ep):
    out = {k: copy.deepcopy(v) for k, v in ep.items() if not k.startswith("_")}
    out["Tags"] = _tags(s, ep["Arn"])
    return out


def _url(ep, context):
    return f"https://{ep['_host']}.mediapackage.{context.region}.{host_suffix()}/out/v1/{ep['_hash']}/{ep.get('ManifestName') or 'index'}.m3u8"


def create_origin_endpoint(context, request):
    s = store(context)
    with LOCK:
        _channel(context, request["ChannelId"])
        eid = request["Id"]
        if eid in s["endpoints"]:
            raise error("UnprocessableEntityException", f"Origin endpoint {eid} already exists.", 422)
        h = lower_hex(32)
        ep = {k: copy.deepcopy(request[k]) for k in ENDPOINT_FIELDS if k in request}
        ep.update(Id=eid, ChannelId=request["ChannelId"], _hash=h, _host=lower_hex(16),
                  Arn=f"arn:aws:mediapackage:{context.region}:{context.account_id}:origin_endpoints/{h}")
        ep.setdefault("ManifestName", "index")
        ep.setdefault("Origination", "ALLOW")
        ep["Url"] = _url(ep, context)
        s["endpoints"][eid] = ep
        if request.get("Tags"):
            s["tags"][ep["Arn"]] = dict(request["Tags"])
        return _endpoint_shape(s, ep)


def _endpoint(context, eid):
    ep = store(context)["endpoints"].get(eid)
    if ep is None:
        raise not_found("NotFoundException", f"origin endpoint {eid} not found")
    return ep


def describe_origin_endpoint(context, request):
    return _endpoint_shape(store(context), _endpoint(context, request["Id"]))


def update_origin_endpoint(context, request):
    with LOCK:
        ep = _endpoint(context, request["Id"])
        for k in ENDPOINT_FIELDS:
            if k in request:
                ep[k] = copy.deepcopy(request[k])
        ep["Url"] = _url(ep, context)
        return _endpoint_shape(store(context), ep)


def delete_origin_endpoint(context, request):
    s = store(context)
    with LOCK:
        ep = _endpoint(context, request["Id"])
        del s["endpoints"][ep["Id"]]
        s["tags"].pop(ep["Arn"], None)
        return {}


def list_origin_endpoints(context, request):
    s = store(context)
    eps = [e for e in s["endpoints"].values() if not request.get("ChannelId") or e["ChannelId"] == request["ChannelId"]]
    return {"OriginEndpoints": [_endpoint_shape(s, e) for e in eps]}


def _known(s, arn):
    if not any(x["Arn"] == arn for x in list(s["channels"].values()) + list(s["endpoints"].values())):
        raise not_found("NotFoundException", f"resource {arn} not found")


def tag_resource(context, request):
    s = store(context)
    _known(s, request["ResourceArn"])
    s["tags"].setdefault(request["ResourceArn"], {}).update(request.get("Tags") or {})
    return {}


def untag_resource(context, request):
    s = store(context)
    _known(s, request["ResourceArn"])
    for k in request.get("TagKeys") or []:
        s["tags"].get(request["ResourceArn"], {}).pop(k, None)
    return {}


def list_tags(context, request):
    s = store(context)
    _known(s, request["ResourceArn"])
    return {"Tags": _tags(s, request["ResourceArn"])}


def endpoint_by_host(host_label):
    with LOCK:
        for (acct, region), s in STORES.items():
            for ep in s["endpoints"].values():
                if ep["_host"] == host_label:
                    return acct, region, ep
    return None


OVERRIDES = {
    "CreateChannel": create_channel,
    "DescribeChannel": describe_channel,
    "UpdateChannel": update_channel,
    "DeleteChannel": delete_channel,
    "ListChannels": list_channels,
    "CreateOriginEndpoint": create_origin_endpoint,
    "DescribeOriginEndpoint": describe_origin_endpoint,
    "UpdateOriginEndpoint": update_origin_endpoint,
    "DeleteOriginEndpoint": delete_origin_endpoint,
    "ListOriginEndpoints": list_origin_endpoints,
    "TagResource": tag_resource,
    "UntagResource": untag_resource,
    "ListTagsForResource": list_tags,
}
