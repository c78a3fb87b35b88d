"""The `cloudfront-keyvaluestore` data API (what a function or a Lambda writes keys with), over the
stores of cloudfront.py.

AWS (API reference, https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_kvs_PutKey.html):
PutKey, DeleteKey and UpdateKeys need If-Match with the store's current ETag (from
DescribeKeyValueStore) and answer the new ETag, the item count and the total size. A stale ETag
is refused here with 409 ConflictException ("Resource is not in expected state", the model's
code for it). Key and value sizes: 512 and 1024 characters, as the developer guide's "File format
for key-value pairs" gives them; a store holds at most 5 MB.

Clients sign this API with SigV4A and address `<account>.cloudfront-kvs.global.api.aws`;
patches.py routes SigV4A requests by their signing name, so any host on the emulator's port works.
"""
from castform_emulator import cloudfront
from castform_emulator.common import LOCK, error, etag, not_found, now

MAX_KEY, MAX_VALUE, MAX_STORE = 512, 1024, 5 * 1024 * 1024


def _store(request):
    k = cloudfront.kvs_by_arn(request["KvsARN"])
    if k is None:
        raise not_found("ResourceNotFoundException", f"Key value store {request['KvsARN']} was not found.")
    return k


def _size(k):
    return sum(len(key) + len(v) for key, v in k["items"].items())


def _check_etag(k, request):
    if request.get("IfMatch") != k["data_etag"]:
        raise error("ConflictException", "Resource is not in expected state: the If-Match ETag is not the store's current one.", 409)


def _checked_put(items, key, value):
    if not 1 <= len(key) <= MAX_KEY:
        raise error("ValidationException", f"Key must be 1 to {MAX_KEY} characters.", 400)
    if len(value) > MAX_VALUE:
        raise error("ValidationException", f"Value of {key} is over {MAX_VALUE} characters.", 400)
    items[key] = value


def _commit(k, items):
    size = sum(len(a) + len(b) for a, b in items.items())
    if size > MAX_STORE:
        raise error("ServiceQuotaExceededException", "The key value store would be over 5 MB.", 402)
    k["items"] = items
    k["data_etag"] = etag((k["Id"], now(), len(items), size))
    k["data_modified"] = now()
    return {"ItemCount": len(items), "TotalSizeInBytes": size, "ETag": k["data_etag"]}


def describe(context, request):
    k = _store(request)
    return {"ItemCount": len(k["items"]), "TotalSizeInBytes": _size(k), "KvsARN": k["ARN"],
            "Created": cloudfront._ts(k["modified"]), "ETag": k["data_etag"],
            "LastModified": cloudfront._ts(k.get("data_modified", k["modified"])), "Status": "READY"}


def get_key(context, request):
    k = _store(request)
    if request["Key"] not in k["items"]:
        raise not_found("ResourceNotFoundException", f"Key {request['Key']} was not found.")
    return {"Key": request["Key"], "Value": k["items"][request["Key"]], "ItemCount": len(k["items"]), "TotalSizeInBytes": _size(k)}


def list_keys(context, request):
    k = _store(request)
    return {"Items": [{"Key": a, "Value": b} for a, b in sorted(k["items"].items())]}


def put_key(context, request):
    with LOCK:
        k = _store(request)
        _check_etag(k, request)
        items = dict(k["items"])
        _checked_put(items, request["Key"], request["Value"])
        return _commit(k, items)


def delete_key(context, request):
    with LOCK:
        k = _store(request)
        _check_etag(k, request)
        items = dict(k["items"])
        if items.pop(request["Key"], None) is None:
            raise not_found("ResourceNotFoundException", f"Key {request['Key']} was not found.")
        return _commit(k, items)


def update_keys(context, request):
    with LOCK:
        k = _store(request)
        _check_etag(k, request)
        items = dict(k["items"])
        for p in request.get("Puts") or []:
            _checked_put(items, p["Key"], p["Value"])
        for d in request.get("Deletes") or []:
            items.pop(d["Key"], None)
        return _commit(k, items)


OVERRIDES = {
    "DescribeKeyValueStore": describe,
    "GetKey": get_key,
    "ListKeys": list_keys,
    "PutKey": put_key,
    "DeleteKey": delete_key,
    "UpdateKeys": update_keys,
}
