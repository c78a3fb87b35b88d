"""Cloud Control's GetResource for the types castform adopts, which localstack-core 2026.3.0
(community) does not serve: a resource's current properties in CloudFormation's shape, as its
type's read handler answers them, whether or not CloudFormation created it.

AWS ("Reading a resource's current state",
https://docs.aws.amazon.com/cloudcontrolapi/latest/userguide/resource-operations-read.html):
GetResource(TypeName, Identifier) answers ResourceDescription {Identifier, Properties}, Properties a
JSON string holding the resource's properties, read-only ones included and write-only ones (a
function's Code) never; a resource that does not exist is ResourceNotFoundException, a type
without a read handler UnsupportedActionException.

The same readers give an IMPORT change set its resources (imports.py), as on AWS, where import
reads through the type's read handler.
"""
import json

from castform_emulator.common import error, not_found


def _clients(account_id, region):
    from localstack.aws.connect import connect_to

    return connect_to(aws_access_key_id=account_id, region_name=region)


def _table(c, identifier, region):
    try:
        t = c.dynamodb.describe_table(TableName=identifier)["Table"]
    except c.dynamodb.exceptions.ResourceNotFoundException:
        return None
    billing = (t.get("BillingModeSummary") or {}).get("BillingMode") or "PROVISIONED"
    model = {"TableName": identifier, "Arn": t["TableArn"], "KeySchema": t["KeySchema"],
             "AttributeDefinitions": t["AttributeDefinitions"], "BillingMode": billing}
    if billing == "PROVISIONED":
        p = t.get("ProvisionedThroughput") or {}
        model["ProvisionedThroughput"] = {"ReadCapacityUnits": p.get("ReadCapacityUnits", 0),
                                          "WriteCapacityUnits": p.get("WriteCapacityUnits", 0)}
    stream = t.get("StreamSpecification") or {}
    if stream.get("StreamEnabled"):
        model["StreamSpecification"] = {"StreamViewType": stream["StreamViewType"]}
        model["StreamArn"] = t.get("LatestStreamArn")
    if t.get("GlobalSecondaryIndexes"):
        model["GlobalSecondaryIndexes"] = [{"IndexName": g["IndexName"], "KeySchema": g["KeySchema"],
                                            "Projection": g["Projection"]} for g in t["GlobalSecondaryIndexes"]]
    return model


def _bucket(c, identifier, region):
    try:
        c.s3.head_bucket(Bucket=identifier)
    except Exception:  # noqa: BLE001 - a missing bucket is a 404 ClientError
        return None
    return {"BucketName": identifier, "Arn": f"arn:aws:s3:::{identifier}",
            "DomainName": f"{identifier}.s3.amazonaws.com",
            "RegionalDomainName": f"{identifier}.s3.{region}.amazonaws.com"}


def _flow(c, identifier, region):
    try:
        f = c.mediaconnect.describe_flow(FlowArn=identifier)["Flow"]
    except c.mediaconnect.exceptions.NotFoundException:
        return None
    src = f.get("Source") or {}
    transport = src.get("Transport") or {}
    source = {"Name": src.get("Name"), "Description": src.get("Description"), "Protocol": transport.get("Protocol"),
              "IngestPort": src.get("IngestPort"), "MinLatency": transport.get("MinLatency"),
              "MaxBitrate": transport.get("MaxBitrate"), "WhitelistCidr": src.get("WhitelistCidr"),
              "Decryption": src.get("Decryption"), "SourceArn": src.get("SourceArn"),
              "IngestIp": src.get("IngestIp"), "SourceIngestPort": str(src.get("IngestPort") or "")}
    tags = c.mediaconnect.list_tags_for_resource(ResourceArn=identifier).get("Tags") or {}
    model = {"FlowArn": f["FlowArn"], "Name": f["Name"], "AvailabilityZone": f.get("AvailabilityZone"),
             "FlowAvailabilityZone": f.get("AvailabilityZone"), "EgressIp": f.get("EgressIp"),
             "Source": {k: v for k, v in source.items() if v not in (None, "")},
             "Tags": [{"Key": k, "Value": v} for k, v in sorted(tags.items())]}
    return {k: v for k, v in model.items() if v is not None}


def _function(c, identifier, region):
    try:
        out = c.lambda_.get_function(FunctionName=identifier)
    except c.lambda_.exceptions.ResourceNotFoundException:
        return None
    f = out["Configuration"]
    model = {k: f[k] for k in ("FunctionName", "Role", "Runtime", "Handler", "Description", "MemorySize", "Timeout",
                               "Architectures", "PackageType") if f.get(k) not in (None, "")}
    model["Arn"] = f["FunctionArn"]
    if (f.get("Environment") or {}).get("Variables"):
        model["Environment"] = {"Variables": f["Environment"]["Variables"]}
    if f.get("LoggingConfig"):
        model["LoggingConfig"] = f["LoggingConfig"]
    model["Tags"] = [{"Key": k, "Value": v} for k, v in sorted((out.get("Tags") or {}).items())]
    return model


def from_api(value):
    """The CloudFront API's value -> CloudFormation's: {Quantity, Items} lists flattened,
    AllowedMethods' CachedMethods lifted beside it, the API's names back to CloudFormation's (the
    inverse of providers/cloudfront.py's to_api)."""
    from castform_emulator.providers.cloudfront import RENAMES as TO_API

    renames = {api: cfn for api, cfn in TO_API.items()}
    if isinstance(value, list):
        return [from_api(v) for v in value]
    if not isinstance(value, dict):
        return value
    if "Quantity" in value and set(value) <= {"Quantity", "Items", "Enabled", "CachedMethods"}:
        return [from_api(v) for v in value.get("Items") or []]
    out = {}
    for k, v in value.items():
        if k == "CallerReference":
            continue
        if k == "AllowedMethods" and isinstance(v, dict) and v.get("CachedMethods"):
            out["CachedMethods"] = from_api(v["CachedMethods"])
        out[renames.get(k, k)] = from_api(v)
    return out


def _distribution(c, identifier, region):
    try:
        d = c.cloudfront.get_distribution(Id=identifier)["Distribution"]
    except c.cloudfront.exceptions.NoSuchDistribution:
        return None
    tags = c.cloudfront.list_tags_for_resource(Resource=d["ARN"]).get("Tags", {}).get("Items") or []
    return {"Id": d["Id"], "DomainName": d["DomainName"], "DistributionConfig": from_api(d["DistributionConfig"]),
            "Tags": tags}


READERS = {
    "AWS::DynamoDB::Table": _table,
    "AWS::S3::Bucket": _bucket,
    "AWS::MediaConnect::Flow": _flow,
    "AWS::Lambda::Function": _function,
    "AWS::CloudFront::Distribution": _distribution,
}


def read(account_id, region, type_name, identifier):
    """The resource's properties as its read handler answers them, or None if it does not exist."""
    reader = READERS.get(type_name)
    if reader is None:
        return None
    return reader(_clients(account_id, region), identifier, region)


def get_resource(context, request):
    type_name, identifier = request["TypeName"], request["Identifier"]
    if type_name not in READERS:
        raise error("UnsupportedActionException",
                    f"castform's emulator reads {', '.join(READERS)} through Cloud Control, not {type_name}.", 400)
    model = read(context.account_id, context.region, type_name, identifier)
    if model is None:
        raise not_found("ResourceNotFoundException",
                        f"{type_name} with identifier '{identifier}' was not found.")
    return {"TypeName": type_name,
            "ResourceDescription": {"Identifier": identifier, "Properties": json.dumps(model, default=str)}}


def _identifiers(c, type_name):
    if type_name == "AWS::DynamoDB::Table":
        return c.dynamodb.list_tables().get("TableNames") or []
    if type_name == "AWS::S3::Bucket":
        return [b["Name"] for b in c.s3.list_buckets().get("Buckets") or []]
    if type_name == "AWS::MediaConnect::Flow":
        return [f["FlowArn"] for f in c.mediaconnect.list_flows().get("Flows") or []]
    if type_name == "AWS::Lambda::Function":
        return [f["FunctionName"] for f in c.lambda_.list_functions().get("Functions") or []]
    if type_name == "AWS::CloudFront::Distribution":
        items = (c.cloudfront.list_distributions().get("DistributionList") or {}).get("Items") or []
        return [d["Id"] for d in items]
    return []


def list_resources(context, request):
    """ListResources: every resource of the type, as identifiers (one page: the emulator's
    accounts hold few)."""
    type_name = request["TypeName"]
    if type_name not in READERS:
        raise error("UnsupportedActionException",
                    f"castform's emulator lists {', '.join(READERS)} through Cloud Control, not {type_name}.", 400)
    ids = _identifiers(_clients(context.account_id, context.region), type_name)
    return {"TypeName": type_name, "ResourceDescriptions": [{"Identifier": i} for i in ids]}


OVERRIDES = {"GetResource": get_resource, "ListResources": list_resources}
