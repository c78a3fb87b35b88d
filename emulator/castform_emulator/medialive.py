"""MediaLive in front of moto-ext 5.1.28's backend: the channel state rules, AWS's id and ARN forms,
and 404s for unknown ids.

moto models the channel states (CREATING -> IDLE, STARTING -> RUNNING, STOPPING -> IDLE,
DELETING -> DELETED, UPDATING -> previous; a transient state resolves on the next Describe) but
refuses nothing. AWS (MediaLive User Guide, "Summary of actions",
https://docs.aws.amazon.com/medialive/latest/ug/multiplex-create-delete-edit-summary.html):
"Channel | Edit | The channel must be idle" and "Delete | The channel must be idle". So:
  - UpdateChannel needs IDLE; DeleteChannel needs IDLE (or already stopped/failed states);
  - StartChannel needs IDLE, StopChannel needs RUNNING or STARTING;
each refusal is a 409 ConflictException, a code botocore's model lists for these operations. The
message texts are ours (AWS's exact wording is not documented).

Ids: a MediaLive channel id is seven digits (seed 002's channel is `3714710`), an input id too;
moto uses uuid hex. ARNs: arn:aws:medialive:<region>:<account>:channel:<id>; moto leaves out
region and account. Both are fixed as the resource is created.
"""
from localstack.services.moto import call_moto

from castform_emulator.common import LOCK, digits, error, not_found

IDLE_LIKE = ("IDLE", "CREATE_FAILED", "UPDATE_FAILED", "RECOVERING")


def _backend(context):
    from moto.medialive.models import medialive_backends

    return medialive_backends[context.account_id][context.region]


def _channel(context, channel_id, allow_deleted=False):
    channel = _backend(context)._channels.get(channel_id)
    if channel is None or (channel.state == "DELETED" and not allow_deleted):
        raise not_found("NotFoundException", f"Channel {channel_id} not found")
    channel._resolve_transient_states()
    return channel


def _conflict(channel, action, wanted):
    raise error(
        "ConflictException",
        f"Channel {channel.channel_id} is {channel.state}; {action} needs the channel {wanted}",
        409,
    )


def _rekey(store: dict, old: str, attr: str, kind: str, context):
    """Moves a new moto object from its uuid key to a seven-digit id with an AWS-form ARN."""
    obj = store.pop(old)
    new = digits(7)
    while new in store:
        new = digits(7)
    setattr(obj, attr, new)
    obj.arn = f"arn:aws:medialive:{context.region}:{context.account_id}:{kind}:{new}"
    store[new] = obj
    return obj


def create_channel(context, request):
    with LOCK:
        result = call_moto(context)
        channel = _rekey(_backend(context)._channels, result["Channel"]["Id"], "channel_id", "channel", context)
        result["Channel"]["Id"] = channel.channel_id
        result["Channel"]["Arn"] = channel.arn
        return result


def describe_channel(context, request):
    # AWS keeps describing a deleted channel (state DELETED) for a while; so does moto
    _channel(context, request["ChannelId"], allow_deleted=True)
    return call_moto(context)


def update_channel(context, request):
    channel = _channel(context, request["ChannelId"])
    if channel.state not in IDLE_LIKE:
        _conflict(channel, "UpdateChannel", "IDLE: stop it first")
    return call_moto(context)


def delete_channel(context, request):
    channel = _channel(context, request["ChannelId"])
    if channel.state not in IDLE_LIKE:
        _conflict(channel, "DeleteChannel", "IDLE: stop it first")
    return call_moto(context)


def start_channel(context, request):
    channel = _channel(context, request["ChannelId"])
    if channel.state != "IDLE":
        _conflict(channel, "StartChannel", "IDLE")
    return call_moto(context)


def stop_channel(context, request):
    channel = _channel(context, request["ChannelId"])
    if channel.state not in ("RUNNING", "STARTING"):
        _conflict(channel, "StopChannel", "RUNNING")
    return call_moto(context)


def _input(context, input_id):
    a_input = _backend(context)._inputs.get(input_id)
    if a_input is not None:
        a_input._resolve_transient_states()
    if a_input is None or a_input.state == "DELETED":
        raise not_found("NotFoundException", f"Input {input_id} not found")
    return a_input


def create_input(context, request):
    with LOCK:
        result = call_moto(context)
        a_input = _rekey(_backend(context)._inputs, result["Input"]["Id"], "input_id", "input", context)
        result["Input"]["Id"] = a_input.input_id
        result["Input"]["Arn"] = a_input.arn
        return result


def describe_input(context, request):
    _input(context, request["InputId"])
    return call_moto(context)


def update_input(context, request):
    _input(context, request["InputId"])
    return call_moto(context)


def delete_input(context, request):
    _input(context, request["InputId"])
    return call_moto(context)


OVERRIDES = {
    "CreateChannel": create_channel,
    "DescribeChannel": describe_channel,
    "UpdateChannel": update_channel,
    "DeleteChannel": delete_channel,
    "StartChannel": start_channel,
    "StopChannel": stop_channel,
    "CreateInput": create_input,
    "DescribeInput": describe_input,
    "UpdateInput": update_input,
    "DeleteInput": delete_input,
}
