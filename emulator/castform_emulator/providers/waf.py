"""AWS::WAFv2::WebACL through moto's WAFv2 backend behind the add-on (services.py serves the
wafv2 API with moto). A web ACL of scope CLOUDFRONT lives in us-east-1, as on AWS; cdn.py applies
its rate-based rules to the requests of a distribution whose WebACLId names it.

Updates and deletes carry the lock token WAF hands out with each read, as AWS's API requires.
"""

from castform_emulator.providers.base import CastformProvider, pick, read_or_gone

ACL_PROPS = ["Name", "Scope", "DefaultAction", "Description", "Rules", "VisibilityConfig", "CustomResponseBodies",
             "CaptchaConfig", "ChallengeConfig", "TokenDomains", "AssociationConfig", "Tags"]
UPDATABLE = [p for p in ACL_PROPS if p not in ("Name", "Scope", "Tags")]


class WebAclProvider(CastformProvider):
    TYPE = "AWS::WAFv2::WebACL"
    SERVICE = "Wafv2"

    def do_create(self, c, model):
        params = pick(model, ACL_PROPS)
        params.setdefault("Rules", [])
        params.setdefault("Tags", [])
        summary = c.wafv2.create_web_acl(**params)["Summary"]
        return {"Name": summary["Name"], "Id": summary["Id"], "Arn": summary["ARN"]}

    def _get(self, c, model):
        return read_or_gone(lambda: c.wafv2.get_web_acl(Name=model["Name"], Scope=model["Scope"], Id=model["Id"]))

    def do_read(self, c, model):
        acl = self._get(c, model)["WebACL"]
        return {"Name": acl["Name"], "Id": acl["Id"], "Arn": acl["ARN"],
                "LabelNamespace": acl.get("LabelNamespace") or f"awswaf:{acl['ARN'].split(':')[4]}:webacl:{acl['Name']}:",
                "Capacity": acl.get("Capacity", 0)}

    def do_update(self, c, model, previous):
        token = self._get(c, model)["LockToken"]
        params = pick(model, UPDATABLE)
        params.setdefault("Rules", [])
        c.wafv2.update_web_acl(Name=model["Name"], Scope=model["Scope"], Id=model["Id"], LockToken=token, **params)
        return {}

    def do_delete(self, c, model):
        token = self._get(c, model)["LockToken"]
        c.wafv2.delete_web_acl(Name=model["Name"], Scope=model["Scope"], Id=model["Id"], LockToken=token)
