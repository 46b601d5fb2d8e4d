//! `EmulatorClient` methods for organization-wide access: managed Microsoft tenants
//! (`/_emulator/microsoft/tenants/...`) and Google Workspace domains, service accounts and
//! delegation grants (`/_emulator/google/...`), on the emulator's own request and answer types.

use reqwest::Method;

use crate::client::{done, json, segment, ClientResult, EmulatorClient};
use crate::google::workspace::{Domain, ServiceAccount, WorkspaceUser};
use crate::google::workspace_control::{
    CreateDomain, CreateServiceAccount, DelegationGrant, ServiceAccountKeyFile, WorkspaceUserSpec,
};
use crate::microsoft::tenant_control::{
    AddCertificate, AddSecret, CertificateAdded, CreateApp, CreateGroup, CreateTenant, PatchApp,
    UserSpec,
};
use crate::microsoft::tenants::{AppRegistration, DirectoryUser, Group, SecretCredential, Tenant};

fn tenant_path(tenant: &str, rest: &str) -> String {
    format!("/_emulator/microsoft/tenants/{}{rest}", segment(tenant))
}

fn domain_path(domain: &str, rest: &str) -> String {
    format!("/_emulator/google/domains/{}{rest}", segment(domain))
}

impl EmulatorClient {
    /// `POST /_emulator/microsoft/tenants` (201): a managed tenant.
    pub async fn create_tenant(&self, tenant: &CreateTenant) -> ClientResult<Tenant> {
        let request = self.request(Method::POST, "/_emulator/microsoft/tenants");
        json(request.json(tenant)).await
    }

    /// `GET /_emulator/microsoft/tenants/{tenant}` (by id or domain): the whole tenant.
    pub async fn tenant(&self, tenant: &str) -> ClientResult<Tenant> {
        json(self.request(Method::GET, &tenant_path(tenant, ""))).await
    }

    /// `POST .../users` (201): a directory user, with its mailbox unless `mailbox: none`.
    pub async fn create_tenant_user(
        &self,
        tenant: &str,
        user: &UserSpec,
    ) -> ClientResult<DirectoryUser> {
        let request = self.request(Method::POST, &tenant_path(tenant, "/users"));
        json(request.json(user)).await
    }

    /// `PATCH .../users/{id|upn}`: change a user (disable, department, mailbox kind).
    pub async fn update_tenant_user(
        &self,
        tenant: &str,
        user: &str,
        change: &UserSpec,
    ) -> ClientResult<DirectoryUser> {
        let path = tenant_path(tenant, &format!("/users/{}", segment(user)));
        json(self.request(Method::PATCH, &path).json(change)).await
    }

    /// `DELETE .../users/{id|upn}`: remove a user from the directory.
    pub async fn delete_tenant_user(&self, tenant: &str, user: &str) -> ClientResult<()> {
        let path = tenant_path(tenant, &format!("/users/{}", segment(user)));
        done(self.request(Method::DELETE, &path)).await
    }

    /// `POST .../groups` (201).
    pub async fn create_group(&self, tenant: &str, group: &CreateGroup) -> ClientResult<Group> {
        let request = self.request(Method::POST, &tenant_path(tenant, "/groups"));
        json(request.json(group)).await
    }

    /// `POST .../groups/{id}/members`.
    pub async fn add_group_member(
        &self,
        tenant: &str,
        group: &str,
        member: &str,
    ) -> ClientResult<Group> {
        let path = tenant_path(tenant, &format!("/groups/{}/members", segment(group)));
        let body = crate::microsoft::tenant_control::AddMember {
            member: member.to_string(),
        };
        json(self.request(Method::POST, &path).json(&body)).await
    }

    /// `POST .../apps` (201): an app registration.
    pub async fn create_app(&self, tenant: &str, app: &CreateApp) -> ClientResult<AppRegistration> {
        let request = self.request(Method::POST, &tenant_path(tenant, "/apps"));
        json(request.json(app)).await
    }

    /// `PATCH .../apps/{client_id}`: consent, permissions, mailbox scope.
    pub async fn update_app(
        &self,
        tenant: &str,
        client_id: &str,
        change: &PatchApp,
    ) -> ClientResult<AppRegistration> {
        let path = tenant_path(tenant, &format!("/apps/{}", segment(client_id)));
        json(self.request(Method::PATCH, &path).json(change)).await
    }

    /// `POST .../apps/{client_id}/secrets` (201): a client secret and its value.
    pub async fn add_secret(
        &self,
        tenant: &str,
        client_id: &str,
        secret: &AddSecret,
    ) -> ClientResult<SecretCredential> {
        let path = tenant_path(tenant, &format!("/apps/{}/secrets", segment(client_id)));
        json(self.request(Method::POST, &path).json(secret)).await
    }

    /// `POST .../apps/{client_id}/certificates` (201): upload a certificate, or get a
    /// generated key pair (`private_key_pem`) and self-signed certificate.
    pub async fn add_certificate(
        &self,
        tenant: &str,
        client_id: &str,
        certificate: &AddCertificate,
    ) -> ClientResult<CertificateAdded> {
        let path = tenant_path(
            tenant,
            &format!("/apps/{}/certificates", segment(client_id)),
        );
        json(self.request(Method::POST, &path).json(certificate)).await
    }

    /// `POST /_emulator/google/domains` (201): a Workspace domain.
    pub async fn create_domain(&self, domain: &CreateDomain) -> ClientResult<Domain> {
        let request = self.request(Method::POST, "/_emulator/google/domains");
        json(request.json(domain)).await
    }

    /// `GET /_emulator/google/domains/{domain}`.
    pub async fn domain(&self, domain: &str) -> ClientResult<Domain> {
        json(self.request(Method::GET, &domain_path(domain, ""))).await
    }

    /// `POST .../users` (201): a Workspace user (with a Gmail mailbox unless
    /// `is_mailbox_setup: false`).
    pub async fn create_workspace_user(
        &self,
        domain: &str,
        user: &WorkspaceUserSpec,
    ) -> ClientResult<WorkspaceUser> {
        let request = self.request(Method::POST, &domain_path(domain, "/users"));
        json(request.json(user)).await
    }

    /// `PATCH .../users/{email}`: suspend, move to another org unit, ...
    pub async fn update_workspace_user(
        &self,
        domain: &str,
        email: &str,
        change: &WorkspaceUserSpec,
    ) -> ClientResult<WorkspaceUser> {
        let path = domain_path(domain, &format!("/users/{}", segment(email)));
        json(self.request(Method::PATCH, &path).json(change)).await
    }

    /// `PUT .../delegation/{client_id}`: grant domain-wide delegation for these scopes.
    pub async fn grant_delegation(
        &self,
        domain: &str,
        client_id: &str,
        scopes: &[&str],
    ) -> ClientResult<Domain> {
        let path = domain_path(domain, &format!("/delegation/{}", segment(client_id)));
        let body = DelegationGrant {
            scopes: scopes.iter().map(|s| (*s).to_string()).collect(),
        };
        json(self.request(Method::PUT, &path).json(&body)).await
    }

    /// `DELETE .../delegation/{client_id}`.
    pub async fn revoke_delegation(&self, domain: &str, client_id: &str) -> ClientResult<()> {
        let path = domain_path(domain, &format!("/delegation/{}", segment(client_id)));
        done(self.request(Method::DELETE, &path)).await
    }

    /// `POST /_emulator/google/service-accounts` (201): the JSON key file.
    pub async fn create_service_account(
        &self,
        account: &CreateServiceAccount,
    ) -> ClientResult<ServiceAccountKeyFile> {
        let request = self.request(Method::POST, "/_emulator/google/service-accounts");
        json(request.json(account)).await
    }

    /// `POST /_emulator/google/service-accounts/{email}/keys` (201): a new key's file.
    pub async fn add_service_account_key(
        &self,
        email: &str,
    ) -> ClientResult<ServiceAccountKeyFile> {
        let path = format!("/_emulator/google/service-accounts/{}/keys", segment(email));
        json(self.request(Method::POST, &path)).await
    }

    /// `DELETE /_emulator/google/service-accounts/{email}/keys/{private_key_id}`.
    pub async fn delete_service_account_key(&self, email: &str, key_id: &str) -> ClientResult<()> {
        let path = format!(
            "/_emulator/google/service-accounts/{}/keys/{}",
            segment(email),
            segment(key_id)
        );
        done(self.request(Method::DELETE, &path)).await
    }

    /// `GET /_emulator/google/service-accounts`.
    pub async fn service_accounts(&self) -> ClientResult<Vec<ServiceAccount>> {
        json(self.request(Method::GET, "/_emulator/google/service-accounts")).await
    }
}
