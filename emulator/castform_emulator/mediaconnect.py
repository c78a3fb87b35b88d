"""MediaConnect in front of moto-ext 5.1.28's backend: flow state rules, the ingest address, tags.

AWS rules (API reference and user guide):
  - DeleteFlow: "Before you can delete a flow, you must stop the flow"
    (https://docs.aws.amazon.com/mediaconnect/latest/api/API_DeleteFlow.html; the user guide's
    "Deleting a flow": "If the flow is active, you must stop the flow before you can delete it");
    refused here with 400 BadRequestException, the semantic-error code DeleteFlow lists.
  - StartFlow starts a STANDBY flow (STARTING -> ACTIVE); StopFlow stops an ACTIVE one
    (STOPPING -> STANDBY, "Stopping a flow").
moto gives the first source the ingest address 127.0.0.0 (not an address anything listens on);
here it is 127.0.0.1, this machine's loopback, where an encoder test would send. moto's
ListTagsForResource fails on a flow without tags; here it answers an empty map. moto has no
UpdateFlow; here it accepts the flow-level settings and answers the flow.
"""
from localstack.services.moto import call_moto

from castform_emulator.common import error, not_found


def _backend(context):
    from moto.mediaconnect.models import mediaconnect_backends

    return mediaconnect_backends[context.account_id][context.region]


def _flow(context, arn):
    flow = _backend(context)._flows.get(arn)
    if flow is None:
        raise not_found("NotFoundException", f"Flow {arn} not found.")
    flow.resolve_transient_states()
    return flow


def create_flow(context, request):
    result = call_moto(context)
    flow = _backend(context)._flows[result["Flow"]["FlowArn"]]
    for source in flow.sources:
        if source.get("ingestIp") == "127.0.0.0":
            source["ingestIp"] = "127.0.0.1"
    if request.get("Source") and result["Flow"].get("Source", {}).get("IngestIp") == "127.0.0.0":
        result["Flow"]["Source"]["IngestIp"] = "127.0.0.1"
    return result


def describe_flow(context, request):
    _flow(context, request["FlowArn"])
    return call_moto(context)


def delete_flow(context, request):
    flow = _flow(context, request["FlowArn"])
    if flow.status != "STANDBY":
        raise error("BadRequestException", f"Flow {flow.name} is {flow.status}: stop the flow before you delete it.", 400)
    return call_moto(context)


def start_flow(context, request):
    flow = _flow(context, request["FlowArn"])
    if flow.status != "STANDBY":
        raise error("BadRequestException", f"Flow {flow.name} is {flow.status}; only a STANDBY flow can be started.", 400)
    return call_moto(context)


def stop_flow(context, request):
    flow = _flow(context, request["FlowArn"])
    if flow.status not in ("ACTIVE", "STARTING"):
        raise error("BadRequestException", f"Flow {flow.name} is {flow.status}; only an ACTIVE flow can be stopped.", 400)
    return call_moto(context)


def update_flow(context, request):
    flow = _flow(context, request["FlowArn"])
    if request.get("Maintenance"):
        flow.maintenance = request["Maintenance"]
    if request.get("SourceFailoverConfig"):
        flow.source_failover_config = request["SourceFailoverConfig"]
    return {"Flow": _describe(context, flow.flow_arn)}


def _describe(context, arn):
    from localstack.aws.connect import connect_to

    return connect_to(aws_access_key_id=context.account_id, region_name=context.region).mediaconnect.describe_flow(FlowArn=arn)["Flow"]


def list_tags(context, request):
    arn = request["ResourceArn"]
    backend = _backend(context)
    if arn in backend._flows:
        return {"Tags": backend.tagger.get_tag_dict_for_resource(arn)}
    return call_moto(context)


OVERRIDES = {
    "CreateFlow": create_flow,
    "DescribeFlow": describe_flow,
    "DeleteFlow": delete_flow,
    "StartFlow": start_flow,
    "StopFlow": stop_flow,
    "UpdateFlow": update_flow,
    "ListTagsForResource": list_tags,
}
