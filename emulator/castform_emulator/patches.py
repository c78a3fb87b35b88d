"""Fixes to localstack-core 2026.3.0 that castform's stacks need, applied by run.py before the
emulator starts.

1. AWS::Lambda::Alias: the provider has no update handler, so the engine falls back to creating
   the alias again and fails with "Alias already exists" whenever FunctionVersion changes, which
   is what every code deploy behind a `live` alias does. On AWS, FunctionVersion updates in place
   (UpdateAlias); this handler does the same.
2. A failed in-place update (a MediaLive channel that is RUNNING) must leave the resource as it
   was; the v2 executor records the failed handler's empty model and no physical id, so the
   next change set resolves Ref/GetAtt of it to "unknown". Keep the previous resolved resource.
   After a failure, resources the executor never reached drop out of the stack's state although
   they exist; keep them too. And a failed update leaves the stack with its previous template and
   parameters (AWS rolls an update back: UPDATE_ROLLBACK_COMPLETE means the old template is the
   stack's again), where localstack kept the new ones, so a re-submission of the old template
   looked like a change. Not modelled: resources updated before the failed one are not put back
   (CloudFormation's own rollback of them is tested on FakeCloud).
3. Ref of a resource whose registry primary identifier is composite answers what AWS's Ref
   answers (a user pool client's id, an integration's id, a stage's name), not "a-b".
4. Requests signed with SigV4A (AWS4-ECDSA-P256-SHA256, what clients of the
   cloudfront-keyvaluestore API use) are routed by their signing name like SigV4 ones; the
   router only parsed SigV4's header. Signatures are not checked (nor are SigV4's).
5. TLS: the gateway's certificate is issued by a CA of this emulator for the loopback names its
   endpoints use (*.cloudfront.<host>, *.execute-api.<host>, *.mediapackage.<region>.<host> ...),
   and the CA is written to CASTFORM_EMULATOR_CA (if set), so a client that trusts that file
   (castform with AWS_CA_BUNDLE, curl --cacert) can fetch https://<distribution domain>/.
6. IMPORT change sets (imports.py).
7. AWS::Logs::LogGroup: the provider created the group and dropped RetentionInDays and Tags, and
   had no update handler. On AWS the group is created with its retention and tags and both
   update in place (PutRetentionPolicy/DeleteRetentionPolicy, TagResource: the registry
   schema's handler permissions; RetentionInDays "Update requires: No interruption",
   https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-logs-loggroup.html),
   which is what castform's edge log group copies rely on.
8. A stack whose deletion failed for a resource stays DELETE_FAILED, as on AWS (the failed
   resource is left in it, and the stack is left DELETE_FAILED until a retry deletes it or
   retains what failed: DeleteStack's RetainResources,
   https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_DeleteStack.html). localstack marked the stack DELETE_FAILED when the resource failed,
   then DELETE_COMPLETE once the other deletions were done, so a destroy that AWS would stop
   (a bucket not empty, an origin access control a distribution still uses) looked complete.
9. AWS::S3::Bucket: the provider emptied a bucket before deleting it (its own comment calls it
   a divergence). S3 deletes only an empty bucket, so on AWS the resource's delete fails with
   BucketNotEmpty and the stack ends DELETE_FAILED; whoever deletes the stack empties it first
   (https://docs.aws.amazon.com/AmazonS3/latest/userguide/delete-bucket.html).
10. S3 DeleteObject with If-Match: localstack-core answers NotImplemented ("only supported for
   Directory Buckets"), but S3 supports conditional deletes on general purpose buckets: the
   current version is deleted only if its ETag matches (`*`: if there is one), else 412
   PreconditionFailed; 404 NoSuchKey where there is no current version
   (https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-deletes.html). castform
   releases its lock this way, so a lock broken and taken by another run is never deleted.
"""
import os

from localstack.services.cloudformation.resource_provider import OperationStatus, ProgressEvent

REGIONS = ["us-east-1", "us-east-2", "us-west-1", "us-west-2", "eu-west-1", "eu-central-1", "ap-southeast-2"]


def _update_alias(self, request):
    model = dict(request.desired_state)
    lambda_ = request.aws_client_factory.lambda_
    params = {k: model[k] for k in ("FunctionName", "Name", "FunctionVersion", "Description", "RoutingConfig") if k in model}
    result = lambda_.update_alias(**params)
    model["Id"] = result["AliasArn"]
    return ProgressEvent(status=OperationStatus.SUCCESS, resource_model=model)


def _log_group_settings(logs, model, previous=None):
    name = model["LogGroupName"]
    days = model.get("RetentionInDays")
    if days:
        logs.put_retention_policy(logGroupName=name, retentionInDays=int(days))
    elif previous and previous.get("RetentionInDays"):
        logs.delete_retention_policy(logGroupName=name)
    tags = {t["Key"]: t["Value"] for t in model.get("Tags") or []}
    if tags:
        logs.tag_log_group(logGroupName=name, tags=tags)


def _log_groups():
    from localstack.services.logs.resource_providers.aws_logs_loggroup import LogsLogGroupProvider

    create = LogsLogGroupProvider.create

    def create_with_settings(self, request):
        event = create(self, request)
        if event.status == OperationStatus.SUCCESS:
            _log_group_settings(request.aws_client_factory.logs, event.resource_model)
        return event

    def update(self, request):
        model = dict(request.desired_state)
        model.setdefault("LogGroupName", (request.previous_state or {}).get("LogGroupName"))
        model.setdefault("Arn", (request.previous_state or {}).get("Arn"))
        _log_group_settings(request.aws_client_factory.logs, model, request.previous_state)
        return ProgressEvent(status=OperationStatus.SUCCESS, resource_model=model)

    LogsLogGroupProvider.create = create_with_settings
    LogsLogGroupProvider.update = update


def _delete_failures_stay_failed():
    from localstack.aws.api.cloudformation import StackStatus
    from localstack.services.cloudformation.v2.entities import Stack

    orig = Stack.set_stack_status

    def set_stack_status(self, status, reason=None):
        if status == StackStatus.DELETE_COMPLETE and self.status == StackStatus.DELETE_FAILED:
            return
        return orig(self, status, reason)

    Stack.set_stack_status = set_stack_status


def _buckets_must_be_empty():
    from botocore.exceptions import ClientError
    from localstack.services.s3.resource_providers.aws_s3_bucket import S3BucketProvider

    def delete(self, request):
        model = request.desired_state
        try:
            request.aws_client_factory.s3.delete_bucket(Bucket=model["BucketName"])
        except ClientError as e:
            code = e.response.get("Error", {}).get("Code")
            if code == "NoSuchBucket":
                return ProgressEvent(status=OperationStatus.SUCCESS, resource_model=model)
            return ProgressEvent(
                status=OperationStatus.FAILED,
                resource_model={},
                message=f"Resource handler returned message: \"{e.response.get('Error', {}).get('Message')}\" "
                f"(Service: S3, Status Code: 409, Error Code: {code})",
                error_code=code,
            )
        return ProgressEvent(status=OperationStatus.SUCCESS, resource_model=model)

    S3BucketProvider.delete = delete


def _keep_state_of_failed_updates():
    from localstack.aws.api.cloudformation import ChangeAction
    from localstack.services.cloudformation.engine.v2 import change_set_model_executor as ex

    orig = ex.ChangeSetModelExecutor._execute_resource_action

    def _execute_resource_action(self, *args, **kwargs):
        event = orig(self, *args, **kwargs)
        action = kwargs.get("action", args[0] if args else None)
        logical_id = kwargs.get("logical_resource_id", args[1] if len(args) > 1 else None)
        if event.status == OperationStatus.FAILED and action in (ChangeAction.Modify, ChangeAction.Dynamic):
            previous = self._change_set.stack.resolved_resources.get(logical_id)
            if previous and previous.get("PhysicalResourceId"):
                failed = self.resources.get(logical_id) or {}
                self.resources[logical_id] = {
                    **previous,
                    "ResourceStatus": failed.get("ResourceStatus", previous.get("ResourceStatus")),
                    "ResourceStatusReason": failed.get("ResourceStatusReason"),
                }
        return event

    ex.ChangeSetModelExecutor._execute_resource_action = _execute_resource_action

    orig_execute = ex.ChangeSetModelExecutor.execute

    def execute(self):
        result = orig_execute(self)
        if result.failure_message:
            stack = self._change_set.stack
            for logical_id, previous in (stack.resolved_resources or {}).items():
                if logical_id not in self.resources and previous.get("PhysicalResourceId"):
                    self.resources[logical_id] = previous
            if self._change_set.change_set_type == "UPDATE" and stack.template_body:
                # the provider copies these from the change set onto the stack next: the old ones
                cs = self._change_set
                cs.resolved_parameters = stack.resolved_parameters
                cs.template = stack.template
                cs.processed_template = stack.processed_template
                cs.template_body = stack.template_body
        return result

    ex.ChangeSetModelExecutor.execute = execute


def _composite_refs():
    from localstack.services.cloudformation.engine.quirks import PHYSICAL_RESOURCE_ID_SPECIAL_CASES as cases

    cases.update({
        "AWS::Cognito::UserPoolClient": "/properties/ClientId",
        "AWS::ApiGatewayV2::Integration": "/properties/IntegrationId",
        "AWS::ApiGatewayV2::Route": "/properties/RouteId",
        "AWS::ApiGatewayV2::Stage": "/properties/StageName",
    })


def _route_sigv4a():
    from localstack.aws.protocol import service_router

    original = service_router._extract_service_indicators

    def extract(request):
        found = original(request)
        auth = request.headers.get("authorization") or ""
        if found.signing_name is None and auth.lower().startswith("aws4-ecdsa-p256-sha256 "):
            from werkzeug.http import parse_dict_header

            try:
                scope = parse_dict_header(auth.split(None, 1)[1])["Credential"].split("/")
                # SigV4A's scope has no region: key/date/service/aws4_request
                found = found._replace(signing_name=scope[2])
            except (KeyError, IndexError):
                pass
        return found

    service_router._extract_service_indicators = extract


def _tls_with_ca():
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
    from localstack import config
    from localstack.utils import ssl

    made = []

    def create_ssl_cert(serial_number=None):
        # once per process: other callers (services that start later) get the gateway's own
        # certificate, so the CA written out is the one that signed what the gateway serves
        if made:
            return made[0]
        # a folder of this process's own: emulators running side by side share LocalStack's cache
        import tempfile

        base = os.path.join(tempfile.mkdtemp(prefix="castform-tls-"), "server")
        host = config.LOCALSTACK_HOST.host
        now = datetime.datetime.now(datetime.timezone.utc)
        ca_key = ec.generate_private_key(ec.SECP256R1())
        ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "castform emulator CA (loopback only)")])
        ca = (
            x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + datetime.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256())
        )
        key = ec.generate_private_key(ec.SECP256R1())
        names = ["localhost", host, f"*.{host}", f"*.cloudfront.{host}", f"*.execute-api.{host}"]
        names += [f"*.mediapackage.{r}.{host}" for r in REGIONS] + [f"*.lambda-url.{r}.{host}" for r in REGIONS]
        cert = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])).issuer_name(ca_name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1)).not_valid_after(now + datetime.timedelta(days=30))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in names]), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256())
        )
        pem = lambda c: c.public_bytes(serialization.Encoding.PEM).decode()  # noqa: E731
        key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                    serialization.NoEncryption()).decode()
        with open(f"{base}.crt", "w") as f:
            f.write(pem(cert) + pem(ca))
        with open(f"{base}.key", "w") as f:
            f.write(key_pem)
        ca_out = os.environ.get("CASTFORM_EMULATOR_CA")
        if ca_out:
            tmp = f"{ca_out}.tmp"
            with open(tmp, "w") as f:
                f.write(pem(ca))
            os.replace(tmp, ca_out)
        made.append((key_pem + pem(cert), f"{base}.crt", f"{base}.key"))
        return made[0]

    import sys

    original = ssl.create_ssl_cert
    ssl.create_ssl_cert = create_ssl_cert
    for module in list(sys.modules.values()):
        if getattr(module, "create_ssl_cert", None) is original:
            module.create_ssl_cert = create_ssl_cert


def _service_roles():
    """A change set's RoleARN, which localstack-core 2026.3.0 accepts and forgets: here, as on
    AWS, the role must exist and trust cloudformation.amazonaws.com, else CreateChangeSet is a
    ValidationError ("Role ... is invalid or cannot be assumed"); the stack keeps it (later
    operations without one use it, "AWS CloudFormation service role",
    https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/using-iam-servicerole.html) and
    DescribeStacks answers it as RoleARN."""
    import functools
    import json
    from urllib.parse import unquote

    from localstack.aws.connect import connect_to
    from localstack.services.cloudformation.engine.validations import ValidationError
    from localstack.services.cloudformation.v2.provider import CloudformationProviderV2

    roles = {}  # (account, region, stack name) -> role ARN

    def assumable(account_id, arn):
        name = arn.rsplit("/", 1)[-1]
        try:
            role = connect_to(aws_access_key_id=account_id, region_name="us-east-1").iam.get_role(RoleName=name)["Role"]
        except Exception:  # noqa: BLE001 - NoSuchEntity
            return False
        doc = role.get("AssumeRolePolicyDocument") or {}
        if isinstance(doc, str):
            doc = json.loads(unquote(doc))
        for st in doc.get("Statement") or []:
            principal = (st.get("Principal") or {}).get("Service") if isinstance(st.get("Principal"), dict) else None
            principals = [principal] if isinstance(principal, str) else principal or []
            if st.get("Effect") == "Allow" and "cloudformation.amazonaws.com" in principals:
                return True
        return False

    create = CloudformationProviderV2.create_change_set

    @functools.wraps(create)
    def create_change_set(self, context, request):
        arn = request.get("RoleARN")
        if arn:
            if not assumable(context.account_id, arn):
                raise ValidationError(f"Role {arn} is invalid or cannot be assumed")
            roles[(context.account_id, context.region, request["StackName"])] = arn
        return create(self, context, request)

    CloudformationProviderV2.create_change_set = create_change_set
    describe = CloudformationProviderV2._describe_stack

    def _describe_stack(self, stack):
        out = describe(self, stack)
        arn = roles.get((stack.account_id, stack.region_name, stack.stack_name))
        if arn:
            out["RoleARN"] = arn
        return out

    CloudformationProviderV2._describe_stack = _describe_stack


def _conditional_deletes():
    import functools

    from localstack.services.s3 import provider as s3

    delete = s3.S3Provider.delete_object

    @functools.wraps(delete)
    def delete_object(self, context, bucket, key, *args, if_match=None, **kwargs):
        if not if_match or kwargs.get("if_match_size") or kwargs.get("if_match_last_modified_time"):
            return delete(self, context, bucket, key, *args, if_match=if_match, **kwargs)
        _, s3_bucket = self._get_cross_account_bucket(context, bucket)
        # the same lock localstack's conditional writes take: a write and a delete of one key
        # are decided one after the other
        with self._preconditions_locks[bucket][key]:
            existing = s3_bucket.objects.get(key)
            if not existing or isinstance(existing, s3.S3DeleteMarker):
                raise s3.NoSuchKey("The specified key does not exist.", Key=key)
            if if_match != "*" and existing.etag != if_match.strip('"'):
                raise s3.PreconditionFailed(
                    "At least one of the pre-conditions you specified did not hold", Condition="If-Match"
                )
            return delete(self, context, bucket, key, *args, **kwargs)

    s3.S3Provider.delete_object = delete_object


def apply():
    from localstack.services.lambda_.resource_providers.lambda_alias import LambdaAliasProvider

    LambdaAliasProvider.update = _update_alias
    _keep_state_of_failed_updates()
    # after the line above: it wraps the same executor method
    from castform_emulator import imports

    imports.install()
    from castform_emulator import urlauth

    urlauth.install()
    _service_roles()
    _composite_refs()
    _route_sigv4a()
    _tls_with_ca()
    _log_groups()
    _delete_failures_stay_failed()
    _buckets_must_be_empty()
    _conditional_deletes()
