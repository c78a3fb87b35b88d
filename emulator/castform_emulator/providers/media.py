"""AWS::MediaConnect::Flow, AWS::MediaLive::Input, AWS::MediaLive::Channel,
AWS::MediaPackage::Channel and AWS::MediaPackage::OriginEndpoint, through the add-on's APIs.

CloudFormation's property names for these are the APIs' member names, so properties go to the
calls as they are (localstack's internal client matches names case-insensitively and coerces
scalars along botocore's input shape). A MediaLive channel update is sent as is: when the channel
is not IDLE the API refuses it (409 ConflictException) and the stack update fails, as on AWS.
No handler stops a running channel or an active flow by itself.
"""
from castform_emulator.providers.base import CastformProvider, NotFound, gone, pick, read_or_gone, tag_map
from botocore.exceptions import ClientError


class FlowProvider(CastformProvider):
    TYPE = "AWS::MediaConnect::Flow"
    SERVICE = "MediaConnect"
    SOURCE_UPDATABLE = ["Decryption", "Description", "IngestPort", "MaxBitrate", "MaxLatency", "MinLatency",
                        "Protocol", "StreamId", "WhitelistCidr", "SenderControlPort", "SenderIpAddress"]

    def do_create(self, c, model):
        params = pick(model, ["Name", "AvailabilityZone", "Source", "SourceFailoverConfig", "VpcInterfaces",
                               "MediaStreams", "Maintenance", "SourceMonitoringConfig"])
        flow = c.mediaconnect.create_flow(**params)["Flow"]
        if model.get("Tags"):
            c.mediaconnect.tag_resource(ResourceArn=flow["FlowArn"], Tags=tag_map(model["Tags"]))
        return {"FlowArn": flow["FlowArn"]}

    def do_read(self, c, model):
        flow = read_or_gone(lambda: c.mediaconnect.describe_flow(FlowArn=model["FlowArn"])["Flow"])
        src = flow.get("Source") or {}
        source = dict(model.get("Source") or {})
        source.update({k: src[k] for k in ("SourceArn", "IngestIp") if src.get(k)})
        source["SourceIngestPort"] = str(src.get("IngestPort") or source.get("IngestPort") or "")
        return {"FlowArn": flow["FlowArn"], "FlowAvailabilityZone": flow.get("AvailabilityZone") or "us-west-2a",
                "EgressIp": flow.get("EgressIp", ""), "Source": source, "Name": flow["Name"]}

    def do_update(self, c, model, previous):
        arn = model["FlowArn"]
        flow = c.mediaconnect.describe_flow(FlowArn=arn)["Flow"]
        source = model.get("Source") or {}
        c.mediaconnect.update_flow_source(FlowArn=arn, SourceArn=flow["Source"]["SourceArn"], **pick(source, self.SOURCE_UPDATABLE))
        return {}

    def do_delete(self, c, model):
        c.mediaconnect.delete_flow(FlowArn=model["FlowArn"])


class InputProvider(CastformProvider):
    TYPE = "AWS::MediaLive::Input"
    SERVICE = "MediaLive"
    PROPS = ["Destinations", "InputDevices", "InputSecurityGroups", "MediaConnectFlows", "Name", "RoleArn", "Sources",
             "Type", "Vpc", "SrtSettings", "InputNetworkLocation", "MulticastSettings"]

    def do_create(self, c, model):
        params = pick(model, self.PROPS)
        if model.get("Tags"):
            params["Tags"] = tag_map(model["Tags"])
        return {"Id": c.medialive.create_input(**params)["Input"]["Id"]}

    def settled(self, c, model, phase):
        if phase == "delete":
            try:
                return c.medialive.describe_input(InputId=model["Id"])["State"] in ("DELETED",)
            except ClientError as e:
                if gone(e):
                    return True
                raise
        return c.medialive.describe_input(InputId=model["Id"])["State"] != "CREATING"

    def do_read(self, c, model):
        i = read_or_gone(lambda: c.medialive.describe_input(InputId=model["Id"]))
        return {"Id": i["Id"], "Arn": i["Arn"], "Destinations": i.get("Destinations") or [], "Sources": i.get("Sources") or []}

    def do_update(self, c, model, previous):
        c.medialive.update_input(InputId=model["Id"], **pick(model, ["Destinations", "InputDevices", "InputSecurityGroups",
                                                                      "MediaConnectFlows", "Name", "RoleArn", "Sources", "SrtSettings"]))
        return {}

    def do_delete(self, c, model):
        c.medialive.delete_input(InputId=model["Id"])


class ChannelProvider(CastformProvider):
    TYPE = "AWS::MediaLive::Channel"
    SERVICE = "MediaLive"
    CREATE = ["CdiInputSpecification", "ChannelClass", "Destinations", "EncoderSettings", "InputAttachments",
              "InputSpecification", "LogLevel", "Maintenance", "Name", "RoleArn", "Vpc", "AnywhereSettings"]
    UPDATE = ["CdiInputSpecification", "Destinations", "EncoderSettings", "InputAttachments", "InputSpecification",
              "LogLevel", "Maintenance", "Name", "RoleArn", "AnywhereSettings"]

    def do_create(self, c, model):
        params = pick(model, self.CREATE)
        if model.get("Tags"):
            params["Tags"] = tag_map(model["Tags"])
        return {"Id": c.medialive.create_channel(**params)["Channel"]["Id"]}

    def settled(self, c, model, phase):
        try:
            state = c.medialive.describe_channel(ChannelId=model["Id"])["State"]
        except ClientError as e:
            if phase == "delete" and gone(e):
                return True
            raise
        return state not in ("CREATING", "UPDATING", "DELETING")

    def do_read(self, c, model):
        ch = read_or_gone(lambda: c.medialive.describe_channel(ChannelId=model["Id"]))
        if ch["State"] == "DELETED":
            raise NotFound()
        return {"Id": ch["Id"], "Arn": ch["Arn"],
                "Inputs": [a["InputId"] for a in ch.get("InputAttachments") or [] if a.get("InputId")]}

    def do_update(self, c, model, previous):
        if model.get("ChannelClass") != previous.get("ChannelClass"):
            # AWS changes the class with UpdateChannelClass (also only while IDLE); not emulated
            c.medialive.update_channel_class(ChannelId=model["Id"], ChannelClass=model["ChannelClass"])
        c.medialive.update_channel(ChannelId=model["Id"], **pick(model, self.UPDATE))
        return {}

    def do_delete(self, c, model):
        c.medialive.delete_channel(ChannelId=model["Id"])


class PackageChannelProvider(CastformProvider):
    TYPE = "AWS::MediaPackage::Channel"
    SERVICE = "MediaPackage"

    def do_create(self, c, model):
        c.mediapackage.create_channel(Id=model["Id"], Description=model.get("Description", ""), Tags=tag_map(model.get("Tags")))
        return {}

    def do_read(self, c, model):
        ch = read_or_gone(lambda: c.mediapackage.describe_channel(Id=model["Id"]))
        ingest = [{"Id": e["Id"], "Username": e["Username"], "Password": e["Password"], "Url": e["Url"]}
                  for e in (ch.get("HlsIngest") or {}).get("IngestEndpoints") or []]
        return {"Arn": ch["Arn"], "HlsIngest": {"ingestEndpoints": ingest}}

    def do_update(self, c, model, previous):
        c.mediapackage.update_channel(Id=model["Id"], Description=model.get("Description", ""))
        return {}

    def do_delete(self, c, model):
        c.mediapackage.delete_channel(Id=model["Id"])


class OriginEndpointProvider(CastformProvider):
    TYPE = "AWS::MediaPackage::OriginEndpoint"
    SERVICE = "MediaPackage"
    PROPS = ["Authorization", "ChannelId", "CmafPackage", "DashPackage", "Description", "HlsPackage", "Id",
             "ManifestName", "MssPackage", "Origination", "StartoverWindowSeconds", "TimeDelaySeconds", "Whitelist"]

    def do_create(self, c, model):
        params = pick(model, self.PROPS)
        if model.get("Tags"):
            params["Tags"] = tag_map(model["Tags"])
        c.mediapackage.create_origin_endpoint(**params)
        return {}

    def do_read(self, c, model):
        ep = read_or_gone(lambda: c.mediapackage.describe_origin_endpoint(Id=model["Id"]))
        return {"Arn": ep["Arn"], "Url": ep["Url"]}

    def do_update(self, c, model, previous):
        c.mediapackage.update_origin_endpoint(**pick(model, [p for p in self.PROPS if p != "ChannelId"]))
        return {}

    def do_delete(self, c, model):
        c.mediapackage.delete_origin_endpoint(Id=model["Id"])
