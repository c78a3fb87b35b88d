"""CloudFormation resource providers for every resource type castform's apps use that
localstack-core community skips. Each plugin's `name` is the CloudFormation type; localstack's
ResourceProviderExecutor loads it by that name from the "localstack.cloudformation.resource_providers"
entry points (pyproject.toml), as it loads its own.
"""
from localstack.services.cloudformation.resource_provider import CloudFormationResourceProviderPlugin

# CloudFormation type -> (module, class)
PROVIDERS = {
    "AWS::MediaConnect::Flow": ("media", "FlowProvider"),
    "AWS::MediaLive::Input": ("media", "InputProvider"),
    "AWS::MediaLive::Channel": ("media", "ChannelProvider"),
    "AWS::MediaPackage::Channel": ("media", "PackageChannelProvider"),
    "AWS::MediaPackage::OriginEndpoint": ("media", "OriginEndpointProvider"),
    "AWS::CloudFront::Distribution": ("cloudfront", "DistributionProvider"),
    "AWS::CloudFront::OriginAccessControl": ("cloudfront", "OriginAccessControlProvider"),
    "AWS::CloudFront::ResponseHeadersPolicy": ("cloudfront", "ResponseHeadersPolicyProvider"),
    "AWS::CloudFront::Function": ("cloudfront", "FunctionProvider"),
    "AWS::CloudFront::KeyValueStore": ("cloudfront", "KeyValueStoreProvider"),
    "AWS::Cognito::UserPool": ("identity", "UserPoolProvider"),
    "AWS::Cognito::UserPoolClient": ("identity", "UserPoolClientProvider"),
    "AWS::ApiGatewayV2::Api": ("identity", "ApiProvider"),
    "AWS::ApiGatewayV2::Integration": ("identity", "IntegrationProvider"),
    "AWS::ApiGatewayV2::Route": ("identity", "RouteProvider"),
    "AWS::ApiGatewayV2::Authorizer": ("identity", "AuthorizerProvider"),
    "AWS::ApiGatewayV2::Stage": ("identity", "StageProvider"),
    "AWS::WAFv2::WebACL": ("waf", "WebAclProvider"),
}


def _plugin(cfn_type: str):
    module, cls = PROVIDERS[cfn_type]

    def load(self):
        import importlib

        self.factory = getattr(importlib.import_module(f"castform_emulator.providers.{module}"), cls)

    return type(f"{cls}Plugin", (CloudFormationResourceProviderPlugin,),
                {"name": cfn_type, "__init__": lambda self: setattr(self, "factory", None), "load": load})


PLUGINS = {t: _plugin(t) for t in PROVIDERS}

# the entry points name them <Service>_<Type> (pyproject.toml)
globals().update({t.split("::", 1)[1].replace("::", "_"): p for t, p in PLUGINS.items()})
