"""MediaConvert's job API (CreateJob, GetJob, ListJobs, CancelJob, DescribeEndpoints), which
neither localstack-core nor moto serves.

A job moves SUBMITTED -> PROGRESSING -> COMPLETE, one step each time it is read, or to ERROR when
an input cannot be read. What it writes is not a transcode: each FILE_GROUP output is the input's
bytes under the name MediaConvert would give it (destination + name modifier + extension), so
code downstream of a job (here, the podcast transcoder not resubmitting an episode that has a
rendition) sees the object appear where AWS would put it.

AWS's rules (API reference, https://docs.aws.amazon.com/mediaconvert/latest/apireference/jobs.html):
  - `Role` and `Settings` are required; `Queue` defaults to the account's `Default` queue,
    arn:aws:mediaconvert:<region>:<account>:queues/Default.
  - Job ids are a millisecond timestamp and six lower-case characters (1617299542743-2opsm4).
  - An input MediaConvert cannot open ends the job in ERROR with code 1010, "Unable to open input
    file [s3://...]" (https://docs.aws.amazon.com/mediaconvert/latest/ug/mediaconvert_error_codes.html);
    AWS bills only COMPLETE jobs.
"""
import datetime
import random
import string
import time

from castform_emulator.common import LOCK, error, host_suffix, not_found

# (account, region) -> job id -> job
JOBS: dict = {}
NEXT = {"SUBMITTED": "PROGRESSING", "PROGRESSING": "COMPLETE"}


def _jobs(context) -> dict:
    return JOBS.setdefault((context.account_id, context.region), {})


def _s3(context):
    from localstack.aws.connect import connect_to

    return connect_to(aws_access_key_id=context.account_id, region_name=context.region).s3


def _split(url: str):
    if not url.startswith("s3://") or "/" not in url[5:]:
        return None
    bucket, _, key = url[5:].partition("/")
    return bucket, key


def _stamp(t: float) -> datetime.datetime:
    return datetime.datetime.fromtimestamp(t, tz=datetime.timezone.utc)


def _outputs(settings: dict):
    """(bucket, key) of every file a FILE_GROUP output group writes."""
    for group in settings.get("OutputGroups", []):
        ogs = group.get("OutputGroupSettings", {})
        if ogs.get("Type") != "FILE_GROUP_SETTINGS":
            continue
        place = _split(ogs.get("FileGroupSettings", {}).get("Destination", ""))
        if place is None:
            continue
        for output in group.get("Outputs", []):
            extension = output.get("Extension") or "mp4"
            yield place[0], f"{place[1]}{output.get('NameModifier', '')}.{extension}"


def _advance(context, job: dict):
    status = job["Status"]
    if status not in NEXT:
        return
    now = time.time()
    if status == "SUBMITTED":
        job["Status"] = "PROGRESSING"
        job["Timing"]["StartTime"] = _stamp(now)
        return
    s3 = _s3(context)
    inputs = []
    for i in job["Settings"].get("Inputs", []):
        place = _split(i.get("FileInput", ""))
        try:
            if place is None:
                raise ValueError
            inputs.append(s3.get_object(Bucket=place[0], Key=place[1])["Body"].read())
        except Exception:  # noqa: BLE001 - any failure to read is MediaConvert's 1010
            job.update(Status="ERROR", ErrorCode=1010, ErrorMessage=f"Unable to open input file [{i.get('FileInput')}]")
            job["Timing"]["FinishTime"] = _stamp(now)
            return
    for bucket, key in _outputs(job["Settings"]):
        s3.put_object(Bucket=bucket, Key=key, Body=inputs[0] if inputs else b"")
    job["Status"] = "COMPLETE"
    job["Timing"]["FinishTime"] = _stamp(now)


def create_job(context, request):
    role = request.get("Role") or ""
    settings = request.get("Settings")
    if not role.startswith("arn:aws:iam::") or ":role/" not in role:
        raise error("BadRequestException", "Role must be the ARN of an IAM role MediaConvert can assume.", 400)
    if not settings or not settings.get("Inputs") or not settings.get("OutputGroups"):
        raise error("BadRequestException", "Settings needs at least one input and one output group.", 400)
    default_queue = f"arn:aws:mediaconvert:{context.region}:{context.account_id}:queues/Default"
    queue = request.get("Queue") or default_queue
    if queue not in (default_queue, "Default"):
        raise not_found("NotFoundException", f"Queue {queue} not found.")
    with LOCK:
        job_id = f"{int(time.time() * 1000)}-{''.join(random.choices(string.ascii_lowercase + string.digits, k=6))}"
        job = {
            "Id": job_id,
            "Arn": f"arn:aws:mediaconvert:{context.region}:{context.account_id}:jobs/{job_id}",
            "Role": role,
            "Queue": default_queue,
            "Settings": settings,
            "Status": "SUBMITTED",
            "CreatedAt": _stamp(time.time()),
            "Timing": {"SubmitTime": _stamp(time.time())},
            "UserMetadata": request.get("UserMetadata") or {},
        }
        _jobs(context)[job_id] = job
        return {"Job": job}


def get_job(context, request):
    with LOCK:
        job = _jobs(context).get(request["Id"])
        if job is None:
            raise not_found("NotFoundException", f"Job {request['Id']} not found.")
        _advance(context, job)
        return {"Job": job}


def list_jobs(context, request):
    with LOCK:
        jobs = list(_jobs(context).values())
        for job in jobs:
            _advance(context, job)
        if request.get("Status"):
            jobs = [j for j in jobs if j["Status"] == request["Status"]]
        jobs.sort(key=lambda j: j["CreatedAt"], reverse=request.get("Order", "DESCENDING") == "DESCENDING")
        return {"Jobs": jobs[: int(request.get("MaxResults") or 20)]}


def cancel_job(context, request):
    with LOCK:
        job = _jobs(context).get(request["Id"])
        if job is None:
            raise not_found("NotFoundException", f"Job {request['Id']} not found.")
        if job["Status"] in ("SUBMITTED", "PROGRESSING"):
            job["Status"] = "CANCELED"
        return {}


def describe_endpoints(context, request):
    return {"Endpoints": [{"Url": f"http://{host_suffix()}"}]}


OVERRIDES = {
    "CreateJob": create_job,
    "GetJob": get_job,
    "ListJobs": list_jobs,
    "CancelJob": cancel_job,
    "DescribeEndpoints": describe_endpoints,
}
