"""Cognito user pools in front of moto-ext 5.1.28's backend: deletion protection.

AWS: "When you want to delete a user pool with an Amazon Cognito API request, you must first
change DeletionProtection to Inactive in an UpdateUserPool request. If you don't deactivate
deletion protection, Amazon Cognito returns an InvalidParameterException error."
(https://docs.aws.amazon.com/cognito/latest/developerguide/user-pool-settings-deletion-protection.html).
moto ignores DeletionProtection; here it is kept per pool, shown by DescribeUserPool and enforced.
"""
from localstack.services.moto import call_moto

from castform_emulator.common import error

PROTECTION: dict = {}  # pool id -> ACTIVE | INACTIVE


def create_user_pool(context, request):
    result = call_moto(context)
    PROTECTION[result["UserPool"]["Id"]] = request.get("DeletionProtection") or "INACTIVE"
    result["UserPool"]["DeletionProtection"] = PROTECTION[result["UserPool"]["Id"]]
    return result


def update_user_pool(context, request):
    result = call_moto(context)
    # UpdateUserPool resets what the request leaves out, deletion protection included (INACTIVE)
    PROTECTION[request["UserPoolId"]] = request.get("DeletionProtection") or "INACTIVE"
    return result


def describe_user_pool(context, request):
    result = call_moto(context)
    result["UserPool"]["DeletionProtection"] = PROTECTION.get(request["UserPoolId"], "INACTIVE")
    return result


def delete_user_pool(context, request):
    if PROTECTION.get(request["UserPoolId"]) == "ACTIVE":
        raise error("InvalidParameterException",
                    "The user pool cannot be deleted because deletion protection is activated. "
                    "Deletion protection must be inactivated first.", 400)
    result = call_moto(context)
    PROTECTION.pop(request["UserPoolId"], None)
    return result


OVERRIDES = {
    "CreateUserPool": create_user_pool,
    "UpdateUserPool": update_user_pool,
    "DescribeUserPool": describe_user_pool,
    "DeleteUserPool": delete_user_pool,
}
