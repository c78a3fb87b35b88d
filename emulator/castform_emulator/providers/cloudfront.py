"""AWS::CloudFront::Distribution, ::OriginAccessControl, ::ResponseHeadersPolicy, ::Function and
::KeyValueStore, through the add-on's CloudFront API (cloudfront.py).

CloudFormation's shapes are not the API's: the API (REST-XML) wraps every list in
{Quantity, Items}, nests CachedMethods inside AllowedMethods, calls IPV6Enabled IsIPV6Enabled and
OriginCustomHeaders CustomHeaders, and requires members CloudFormation defaults (CallerReference,
Comment, HTTPPort ...). `to_api` converts along botocore's input shape.

Like AWS's handlers: a distribution's create and update wait for Status Deployed; its delete
disables it, waits for Deployed, then deletes with the ETag (the order DeleteDistribution
requires). A function with AutoPublish is published after each create and update.
"""
import uuid

from botocore.exceptions import ClientError

from castform_emulator.providers.base import CastformProvider, gone, read_or_gone

RENAMES = {"IsIPV6Enabled": "IPV6Enabled", "CustomHeaders": "OriginCustomHeaders"}
DEFAULTS = {"HTTPPort": 80, "HTTPSPort": 443, "Comment": "", "OriginAccessIdentity": ""}


def _scalar(value, shape):
    t = shape.type_name
    if t == "string":
        return value if isinstance(value, str) else str(value).lower() if isinstance(value, bool) else str(value)
    if t in ("integer", "long"):
        return int(value)
    if t == "boolean":
        return value if isinstance(value, bool) else str(value).lower() == "true"
    return value


def to_api(value, shape):
    """A CloudFormation value -> the API's value, along the botocore shape."""
    if shape.type_name == "structure":
        members = shape.members
        if isinstance(value, list) and "Quantity" in members:
            out = {"Quantity": len(value)}
            if value:
                out["Items"] = [to_api(v, members["Items"].member) for v in value]
            if "Enabled" in members:
                out["Enabled"] = bool(value)
            return out
        if not isinstance(value, dict):
            return value
        lower = {k.lower(): k for k in value}
        out = {}
        for name, mshape in members.items():
            key = lower.get(name.lower()) or lower.get(RENAMES.get(name, "").lower())
            if key is None:
                continue
            out[name] = to_api(value[key], mshape)
            if name == "AllowedMethods" and "cachedmethods" in lower:
                out[name]["CachedMethods"] = to_api(value[lower["cachedmethods"]], mshape.members["CachedMethods"])
        if "Quantity" in members and "Items" in members and "Items" not in out:
            for k, v in value.items():
                if isinstance(v, list) and k.lower() not in {m.lower() for m in members}:
                    out.update(to_api(v, shape))
        for name in shape.required_members:
            if name in out:
                continue
            mshape = members[name]
            if name in DEFAULTS:
                out[name] = DEFAULTS[name]
            elif mshape.type_name == "structure" and "Quantity" in mshape.members:
                out[name] = to_api([], mshape)
            elif name == "Enabled":
                out[name] = True
            elif mshape.type_name == "boolean":
                out[name] = False
            elif mshape.type_name == "string":
                out[name] = ""
        return out
    if shape.type_name == "list":
        return [to_api(v, shape.member) for v in value] if isinstance(value, list) else value
    return _scalar(value, shape)


def _shape(client, operation, member):
    return client.meta.service_model.operation_model(operation).input_shape.members[member]


class DistributionProvider(CastformProvider):
    TYPE = "AWS::CloudFront::Distribution"
    SERVICE = "CloudFront"

    def _config(self, cf, model, caller_reference):
        config = to_api(model["DistributionConfig"], _shape(cf, "CreateDistribution", "DistributionConfig"))
        config["CallerReference"] = caller_reference
        return config

    def do_create(self, c, model):
        cf = c.cloudfront
        config = self._config(cf, model, str(uuid.uuid4()))
        tags = [{"Key": t["Key"], "Value": t["Value"]} for t in model.get("Tags") or []]
        if tags:
            d = cf.create_distribution_with_tags(DistributionConfigWithTags={"DistributionConfig": config, "Tags": {"Items": tags}})
        else:
            d = cf.create_distribution(DistributionConfig=config)
        return {"Id": d["Distribution"]["Id"]}

    def settled(self, c, model, phase):
        if phase == "delete":
            return True
        return c.cloudfront.get_distribution(Id=model["Id"])["Distribution"]["Status"] == "Deployed"

    def do_read(self, c, model):
        d = read_or_gone(lambda: c.cloudfront.get_distribution(Id=model["Id"]))["Distribution"]
        return {"Id": d["Id"], "DomainName": d["DomainName"]}

    def do_update(self, c, model, previous):
        cf = c.cloudfront
        current = cf.get_distribution_config(Id=model["Id"])
        config = self._config(cf, model, current["DistributionConfig"]["CallerReference"])
        cf.update_distribution(Id=model["Id"], IfMatch=current["ETag"], DistributionConfig=config)
        return {}

    def delete(self, request):
        # disable, wait until Deployed, delete with the ETag (DeleteDistribution's documented order)
        from localstack.services.cloudformation.resource_provider import OperationStatus, ProgressEvent

        model = dict(request.desired_state)
        cf = request.aws_client_factory.cloudfront
        ctx = request.custom_context
        try:
            current = cf.get_distribution_config(Id=model["Id"])
            if current["DistributionConfig"]["Enabled"]:
                config = dict(current["DistributionConfig"], Enabled=False)
                cf.update_distribution(Id=model["Id"], IfMatch=current["ETag"], DistributionConfig=config)
                return ProgressEvent(OperationStatus.IN_PROGRESS, model, custom_context=ctx)
            d = cf.get_distribution(Id=model["Id"])
            if d["Distribution"]["Status"] != "Deployed":
                return ProgressEvent(OperationStatus.IN_PROGRESS, model, custom_context=ctx)
            cf.delete_distribution(Id=model["Id"], IfMatch=d["ETag"])
        except ClientError as e:
            if gone(e):
                return ProgressEvent(OperationStatus.SUCCESS, model)
            return self._failed(e, "DeleteDistribution")
        return ProgressEvent(OperationStatus.SUCCESS, model)


class _ConfigProvider(CastformProvider):
    """A resource that is one config with an id and an ETag (OAC, response headers policy)."""

    CONFIG = ""
    NOUN = ""

    def _api(self, c, verb):
        return getattr(c.cloudfront, f"{verb}_{self.NOUN}")

    def _config(self, c, model):
        op = "Create" + "".join(w.title() for w in self.NOUN.split("_"))
        op = op.replace("OriginAccessControl", "OriginAccessControl")
        return to_api(model[self.CONFIG], _shape(c.cloudfront, op, self.CONFIG))

    def do_create(self, c, model):
        out = self._api(c, "create")(**{self.CONFIG: self._config(c, model)})
        return {"Id": out[self.CONFIG[:-6]]["Id"]}

    def do_read(self, c, model):
        read_or_gone(lambda: self._api(c, "get")(Id=model["Id"]))
        return {"Id": model["Id"]}

    def do_update(self, c, model, previous):
        current = self._api(c, "get")(Id=model["Id"])
        self._api(c, "update")(Id=model["Id"], IfMatch=current["ETag"], **{self.CONFIG: self._config(c, model)})
        return {}

    def do_delete(self, c, model):
        current = self._api(c, "get")(Id=model["Id"])
        self._api(c, "delete")(Id=model["Id"], IfMatch=current["ETag"])


class OriginAccessControlProvider(_ConfigProvider):
    TYPE = "AWS::CloudFront::OriginAccessControl"
    SERVICE = "CloudFront"
    CONFIG = "OriginAccessControlConfig"
    NOUN = "origin_access_control"


class ResponseHeadersPolicyProvider(_ConfigProvider):
    TYPE = "AWS::CloudFront::ResponseHeadersPolicy"
    SERVICE = "CloudFront"
    CONFIG = "ResponseHeadersPolicyConfig"
    NOUN = "response_headers_policy"

    def do_read(self, c, model):
        p = read_or_gone(lambda: c.cloudfront.get_response_headers_policy(Id=model["Id"]))["ResponseHeadersPolicy"]
        return {"Id": p["Id"], "LastModifiedTime": p["LastModifiedTime"].isoformat()}


class FunctionProvider(CastformProvider):
    TYPE = "AWS::CloudFront::Function"
    SERVICE = "CloudFront"

    def _config(self, c, model):
        return to_api(model["FunctionConfig"], _shape(c.cloudfront, "CreateFunction", "FunctionConfig"))

    def _publish(self, c, model):
        if str(model.get("AutoPublish", False)).lower() == "true":
            etag = c.cloudfront.describe_function(Name=model["Name"])["ETag"]
            c.cloudfront.publish_function(Name=model["Name"], IfMatch=etag)

    def do_create(self, c, model):
        out = c.cloudfront.create_function(Name=model["Name"], FunctionConfig=self._config(c, model),
                                           FunctionCode=model["FunctionCode"].encode())
        self._publish(c, model)
        return {"FunctionARN": out["FunctionSummary"]["FunctionMetadata"]["FunctionARN"]}

    def do_read(self, c, model):
        stage = "LIVE" if str(model.get("AutoPublish", False)).lower() == "true" else "DEVELOPMENT"
        s = read_or_gone(lambda: c.cloudfront.describe_function(Name=model["Name"], Stage=stage))["FunctionSummary"]
        arn = s["FunctionMetadata"]["FunctionARN"]
        return {"FunctionARN": arn, "Stage": s["FunctionMetadata"]["Stage"], "FunctionMetadata": {"FunctionARN": arn}}

    def do_update(self, c, model, previous):
        etag = c.cloudfront.describe_function(Name=model["Name"])["ETag"]
        c.cloudfront.update_function(Name=model["Name"], IfMatch=etag, FunctionConfig=self._config(c, model),
                                     FunctionCode=model["FunctionCode"].encode())
        self._publish(c, model)
        return {}

    def do_delete(self, c, model):
        etag = c.cloudfront.describe_function(Name=model["Name"])["ETag"]
        c.cloudfront.delete_function(Name=model["Name"], IfMatch=etag)


class KeyValueStoreProvider(CastformProvider):
    TYPE = "AWS::CloudFront::KeyValueStore"
    SERVICE = "CloudFront"

    def do_create(self, c, model):
        params = {"Name": model["Name"]}
        if model.get("Comment"):
            params["Comment"] = model["Comment"]
        c.cloudfront.create_key_value_store(**params)
        return {}

    def settled(self, c, model, phase):
        if phase == "delete":
            return True
        return c.cloudfront.describe_key_value_store(Name=model["Name"])["KeyValueStore"]["Status"] == "READY"

    def do_read(self, c, model):
        k = read_or_gone(lambda: c.cloudfront.describe_key_value_store(Name=model["Name"]))["KeyValueStore"]
        return {"Arn": k["ARN"], "Id": k["Id"], "Status": k["Status"]}

    def do_update(self, c, model, previous):
        etag = c.cloudfront.describe_key_value_store(Name=model["Name"])["ETag"]
        c.cloudfront.update_key_value_store(Name=model["Name"], Comment=model.get("Comment", ""), IfMatch=etag)
        return {}

    def do_delete(self, c, model):
        etag = c.cloudfront.describe_key_value_store(Name=model["Name"])["ETag"]
        c.cloudfront.delete_key_value_store(Name=model["Name"], IfMatch=etag)
