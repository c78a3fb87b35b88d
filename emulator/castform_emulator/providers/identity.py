"""AWS::Cognito::UserPool, ::UserPoolClient and AWS::ApiGatewayV2::Api, ::Integration, ::Route,
::Stage, through moto's backends behind the add-on (cognito.py, apigatewayv2.py).

Ref answers what AWS's Ref answers: the pool id, the client id, the API id, the integration and
route ids, the stage name (their composite primary identifiers are special-cased in patches.py).
"""

from castform_emulator.providers.base import CastformProvider, pick, read_or_gone


POOL_PROPS = ["AccountRecoverySetting", "AdminCreateUserConfig", "AliasAttributes", "AutoVerifiedAttributes",
              "DeletionProtection", "DeviceConfiguration", "EmailConfiguration", "EmailVerificationMessage",
              "EmailVerificationSubject", "LambdaConfig", "MfaConfiguration", "Policies", "Schema",
              "SmsAuthenticationMessage", "SmsConfiguration", "SmsVerificationMessage", "UserAttributeUpdateSettings",
              "UsernameAttributes", "UsernameConfiguration", "UserPoolAddOns", "UserPoolTags",
              "VerificationMessageTemplate", "UserPoolTier"]
UPDATABLE_POOL = [p for p in POOL_PROPS if p not in ("AliasAttributes", "Schema", "UsernameAttributes", "UsernameConfiguration")]


class UserPoolProvider(CastformProvider):
    TYPE = "AWS::Cognito::UserPool"
    SERVICE = "CognitoIdentityProvider"

    def do_create(self, c, model):
        params = pick(model, POOL_PROPS)
        params["PoolName"] = model.get("UserPoolName") or f"pool-{id(model)}"
        return {"UserPoolId": c.cognito_idp.create_user_pool(**params)["UserPool"]["Id"]}

    def do_read(self, c, model):
        pool = read_or_gone(lambda: c.cognito_idp.describe_user_pool(UserPoolId=model["UserPoolId"]))["UserPool"]
        region = pool["Id"].split("_", 1)[0]
        provider = f"cognito-idp.{region}.amazonaws.com/{pool['Id']}"
        return {"UserPoolId": pool["Id"], "Arn": pool["Arn"], "ProviderName": provider, "ProviderURL": f"https://{provider}"}

    def do_update(self, c, model, previous):
        c.cognito_idp.update_user_pool(UserPoolId=model["UserPoolId"], **pick(model, UPDATABLE_POOL))
        return {}

    def do_delete(self, c, model):
        c.cognito_idp.delete_user_pool(UserPoolId=model["UserPoolId"])


CLIENT_PROPS = ["ClientName", "ExplicitAuthFlows", "GenerateSecret", "PreventUserExistenceErrors", "ReadAttributes",
                "WriteAttributes", "RefreshTokenValidity", "AccessTokenValidity", "IdTokenValidity", "TokenValidityUnits",
                "AllowedOAuthFlows", "AllowedOAuthFlowsUserPoolClient", "AllowedOAuthScopes", "CallbackURLs",
                "LogoutURLs", "DefaultRedirectURI", "SupportedIdentityProviders", "EnableTokenRevocation",
                "EnablePropagateAdditionalUserContextData", "AuthSessionValidity"]


class UserPoolClientProvider(CastformProvider):
    TYPE = "AWS::Cognito::UserPoolClient"
    SERVICE = "CognitoIdentityProvider"

    def do_create(self, c, model):
        params = pick(model, CLIENT_PROPS)
        params.setdefault("ClientName", "client")
        out = c.cognito_idp.create_user_pool_client(UserPoolId=model["UserPoolId"], **params)["UserPoolClient"]
        return {"ClientId": out["ClientId"]}

    def do_read(self, c, model):
        cl = read_or_gone(lambda: c.cognito_idp.describe_user_pool_client(
            UserPoolId=model["UserPoolId"], ClientId=model["ClientId"]))["UserPoolClient"]
        out = {"ClientId": cl["ClientId"], "Name": cl.get("ClientName", "")}
        if cl.get("ClientSecret"):
            out["ClientSecret"] = cl["ClientSecret"]
        return out

    def do_update(self, c, model, previous):
        params = pick(model, [p for p in CLIENT_PROPS if p != "GenerateSecret"])
        c.cognito_idp.update_user_pool_client(UserPoolId=model["UserPoolId"], ClientId=model["ClientId"], **params)
        return {}

    def do_delete(self, c, model):
        c.cognito_idp.delete_user_pool_client(UserPoolId=model["UserPoolId"], ClientId=model["ClientId"])


API_PROPS = ["Name", "ProtocolType", "RouteSelectionExpression", "ApiKeySelectionExpression", "CorsConfiguration",
             "Description", "DisableExecuteApiEndpoint", "DisableSchemaValidation", "Version", "Tags", "IpAddressType"]


class ApiProvider(CastformProvider):
    TYPE = "AWS::ApiGatewayV2::Api"
    SERVICE = "AmazonApiGatewayV2"

    def do_create(self, c, model):
        return {"ApiId": c.apigatewayv2.create_api(**pick(model, API_PROPS))["ApiId"]}

    def do_read(self, c, model):
        api = read_or_gone(lambda: c.apigatewayv2.get_api(ApiId=model["ApiId"]))
        return {"ApiId": api["ApiId"], "ApiEndpoint": api["ApiEndpoint"]}

    def do_update(self, c, model, previous):
        c.apigatewayv2.update_api(ApiId=model["ApiId"], **pick(model, [p for p in API_PROPS if p not in ("ProtocolType", "Tags")]))
        return {}

    def do_delete(self, c, model):
        c.apigatewayv2.delete_api(ApiId=model["ApiId"])


INTEGRATION_PROPS = ["ConnectionId", "ConnectionType", "ContentHandlingStrategy", "CredentialsArn", "Description",
                     "IntegrationMethod", "IntegrationSubtype", "IntegrationType", "IntegrationUri",
                     "PassthroughBehavior", "PayloadFormatVersion", "RequestParameters", "RequestTemplates",
                     "ResponseParameters", "TemplateSelectionExpression", "TimeoutInMillis", "TlsConfig"]


class IntegrationProvider(CastformProvider):
    TYPE = "AWS::ApiGatewayV2::Integration"
    SERVICE = "AmazonApiGatewayV2"

    def do_create(self, c, model):
        out = c.apigatewayv2.create_integration(ApiId=model["ApiId"], **pick(model, INTEGRATION_PROPS))
        return {"IntegrationId": out["IntegrationId"]}

    def do_read(self, c, model):
        i = read_or_gone(lambda: c.apigatewayv2.get_integration(ApiId=model["ApiId"], IntegrationId=model["IntegrationId"]))
        return {"IntegrationId": i["IntegrationId"]}

    def do_update(self, c, model, previous):
        c.apigatewayv2.update_integration(ApiId=model["ApiId"], IntegrationId=model["IntegrationId"], **pick(model, INTEGRATION_PROPS))
        return {}

    def do_delete(self, c, model):
        c.apigatewayv2.delete_integration(ApiId=model["ApiId"], IntegrationId=model["IntegrationId"])


ROUTE_PROPS = ["ApiKeyRequired", "AuthorizationScopes", "AuthorizationType", "AuthorizerId", "ModelSelectionExpression",
               "OperationName", "RequestModels", "RequestParameters", "RouteKey", "RouteResponseSelectionExpression", "Target"]


class RouteProvider(CastformProvider):
    TYPE = "AWS::ApiGatewayV2::Route"
    SERVICE = "AmazonApiGatewayV2"

    def do_create(self, c, model):
        return {"RouteId": c.apigatewayv2.create_route(ApiId=model["ApiId"], **pick(model, ROUTE_PROPS))["RouteId"]}

    def do_read(self, c, model):
        r = read_or_gone(lambda: c.apigatewayv2.get_route(ApiId=model["ApiId"], RouteId=model["RouteId"]))
        return {"RouteId": r["RouteId"]}

    def do_update(self, c, model, previous):
        c.apigatewayv2.update_route(ApiId=model["ApiId"], RouteId=model["RouteId"], **pick(model, ROUTE_PROPS))
        return {}

    def do_delete(self, c, model):
        c.apigatewayv2.delete_route(ApiId=model["ApiId"], RouteId=model["RouteId"])


AUTHORIZER_PROPS = ["AuthorizerCredentialsArn", "AuthorizerPayloadFormatVersion", "AuthorizerResultTtlInSeconds",
                    "AuthorizerType", "AuthorizerUri", "EnableSimpleResponses", "IdentitySource",
                    "IdentityValidationExpression", "JwtConfiguration", "Name"]


class AuthorizerProvider(CastformProvider):
    TYPE = "AWS::ApiGatewayV2::Authorizer"
    SERVICE = "AmazonApiGatewayV2"

    def do_create(self, c, model):
        out = c.apigatewayv2.create_authorizer(ApiId=model["ApiId"], **pick(model, AUTHORIZER_PROPS))
        return {"AuthorizerId": out["AuthorizerId"]}

    def do_read(self, c, model):
        a = read_or_gone(lambda: c.apigatewayv2.get_authorizer(ApiId=model["ApiId"], AuthorizerId=model["AuthorizerId"]))
        return {"AuthorizerId": a["AuthorizerId"]}

    def do_update(self, c, model, previous):
        c.apigatewayv2.update_authorizer(ApiId=model["ApiId"], AuthorizerId=model["AuthorizerId"],
                                         **pick(model, AUTHORIZER_PROPS))
        return {}

    def do_delete(self, c, model):
        c.apigatewayv2.delete_authorizer(ApiId=model["ApiId"], AuthorizerId=model["AuthorizerId"])


STAGE_PROPS = ["AccessLogSettings", "AutoDeploy", "ClientCertificateId", "DefaultRouteSettings", "DeploymentId",
               "Description", "RouteSettings", "StageVariables", "Tags"]


class StageProvider(CastformProvider):
    TYPE = "AWS::ApiGatewayV2::Stage"
    SERVICE = "AmazonApiGatewayV2"

    def do_create(self, c, model):
        c.apigatewayv2.create_stage(ApiId=model["ApiId"], StageName=model["StageName"], **pick(model, STAGE_PROPS))
        return {}

    def do_read(self, c, model):
        read_or_gone(lambda: c.apigatewayv2.get_stage(ApiId=model["ApiId"], StageName=model["StageName"]))
        return {}

    def do_update(self, c, model, previous):
        c.apigatewayv2.update_stage(ApiId=model["ApiId"], StageName=model["StageName"],
                                    **pick(model, [p for p in STAGE_PROPS if p != "Tags"]))
        return {}

    def do_delete(self, c, model):
        c.apigatewayv2.delete_stage(ApiId=model["ApiId"], StageName=model["StageName"])
