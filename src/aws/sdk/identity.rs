//! Who castform is: STS GetCallerIdentity, and SigV4 signatures made with the same credentials
//! (a Function URL with AuthType AWS_IAM, <https://docs.aws.amazon.com/lambda/latest/dg/urls-auth.html>).

use super::err;
use crate::aws::*;

pub(super) async fn caller_identity(sts: &aws_sdk_sts::Client) -> CloudResult<Identity> {
    let out = sts.get_caller_identity().send().await.map_err(|e| err("STS GetCallerIdentity", e))?;
    Ok(Identity { account: out.account().unwrap_or_default().into(), arn: out.arn().unwrap_or_default().into() })
}

/// The headers that sign `GET url` for `service` in `region` with the credentials in use.
pub(super) async fn signed_get(
    conf: &aws_config::SdkConfig,
    url: &str,
    service: &str,
    region: &str,
) -> CloudResult<Vec<(String, String)>> {
    use aws_credential_types::provider::ProvideCredentials;
    use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
    let op = "SigV4 signing";
    let fail = |message: String| CloudError::Transport { operation: op.into(), message };
    let provider = conf.credentials_provider().ok_or_else(|| fail("no credentials were found".into()))?;
    let identity = provider.provide_credentials().await.map_err(|e| fail(e.to_string()))?.into();
    let params = aws_sigv4::sign::v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name(service)
        .time(std::time::SystemTime::now())
        .settings(SigningSettings::default())
        .build()
        .map_err(|e| fail(e.to_string()))?
        .into();
    let signable = SignableRequest::new("GET", url, std::iter::empty(), SignableBody::Bytes(&[]))
        .map_err(|e| fail(e.to_string()))?;
    let (instructions, _) = sign(signable, &params).map_err(|e| fail(e.to_string()))?.into_parts();
    Ok(instructions.headers().map(|(k, v)| (k.to_string(), v.to_string())).collect())
}
