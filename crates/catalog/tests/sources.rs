//! Sources people can check: every service cites the provider's page about the security of
//! that service, never a generic shared-responsibility page, a product overview, a trust-centre
//! home page or a blog post; and every service states per-control entries, not only a model.

use demarc_catalog::Catalog;

/// Pages that speak about a provider's whole cloud, not one service.
const GENERIC: [&str; 6] = [
    "aws.amazon.com/compliance/shared-responsibility-model",
    "/security/fundamentals/shared-responsibility",
    "cloud.google.com/architecture/framework/security/shared-responsibility",
    "shared-fate",
    "azure.microsoft.com/en-us/products/",
    "/security/fundamentals/overview",
];

/// Hosts that serve marketing decks and interactive brochures rather than documentation.
const HOSTED_DECKS: [&str; 2] = ["view.ceros.com", "www.slideshare.net"];

/// Hosts that serve repository files: a copy of, or a note about, a page is not the page.
const REPOSITORIES: [&str; 3] = ["github.com", "raw.githubusercontent.com", "gist.github.com"];

/// Why `url` is not a per-service security page, if it is not.
fn generic(url: &str) -> Option<&'static str> {
    let lower = url.to_ascii_lowercase();
    if GENERIC.iter().any(|g| lower.contains(g)) {
        return Some("a provider-wide shared-responsibility or product page");
    }
    if lower.contains("/blog") || lower.contains("blog.") {
        return Some("a blog post");
    }
    let rest = lower.trim_start_matches("https://");
    let host = rest.split('/').next().unwrap_or("");
    if host.starts_with("trust.") {
        return Some("a trust-centre page");
    }
    if HOSTED_DECKS.contains(&host) {
        return Some("a hosted marketing deck");
    }
    if REPOSITORIES.contains(&host) {
        return Some("a repository file, not the provider's documentation");
    }
    let path = rest
        .split_once('/')
        .map_or("", |(_, p)| p)
        .trim_end_matches('/');
    let last = path.rsplit('/').next().unwrap_or("");
    // An overview of a service's security, auditing, authentication or encryption is a security
    // page; an overview of the product is not.
    let about_security = ["security", "audit", "encryption", "protect", "auth"]
        .iter()
        .any(|w| path.contains(w));
    if last.ends_with("overview") && !about_security {
        return Some("a product overview");
    }
    if path.is_empty() || last == "trust" || last == "trust.html" || last == "trust-center" {
        return Some("a trust-centre or home page");
    }
    None
}

#[test]
fn the_generic_page_rule_knows_a_generic_page_from_a_service_page() {
    assert!(generic("https://aws.amazon.com/compliance/shared-responsibility-model/").is_some());
    assert!(generic(
        "https://learn.microsoft.com/en-us/azure/security/fundamentals/shared-responsibility"
    )
    .is_some());
    assert!(generic(
        "https://learn.microsoft.com/en-us/azure/virtual-network/virtual-networks-overview"
    )
    .is_some());
    assert!(generic("https://www.workday.com/en-us/company/trust.html").is_some());
    assert!(generic("https://aws.amazon.com/blogs/security/x").is_some());
    assert!(generic("https://trust.okta.com/security/").is_some());
    assert!(
        generic("https://view.ceros.com/workday/chapter-2-workday-security-mb-update").is_some()
    );
    assert!(generic(
        "https://raw.githubusercontent.com/aws/agent-toolkit-for-aws/main/skills/x.md"
    )
    .is_some());
    assert!(
        generic("https://docs.github.com/en/organizations/keeping-your-organization-secure")
            .is_none()
    );
    assert!(
        generic("https://agilebits.github.io/security-design/key-security-features.html").is_none()
    );
    assert!(
        generic("https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/ec2-security.html").is_none()
    );
    assert!(
        generic("https://learn.microsoft.com/en-us/azure/app-service/overview-security").is_none()
    );
    assert!(
        generic("https://docs.aws.amazon.com/redshift/latest/dg/c_security-overview.html")
            .is_none()
    );
}

#[test]
fn every_service_cites_a_page_about_its_own_security() {
    let bad: Vec<String> = Catalog::builtin()
        .services
        .iter()
        .filter(|s| s.mode.is_none())
        .filter_map(|s| {
            let url = s.source.url()?;
            generic(url).map(|why| format!("{}: {url} is {why}", s.id))
        })
        .collect();
    assert!(
        bad.is_empty(),
        "{} services cite generic pages:\n{}",
        bad.len(),
        bad.join("\n")
    );
}

#[test]
fn every_service_states_per_control_entries() {
    let bare: Vec<&str> = Catalog::builtin()
        .services
        .iter()
        .filter(|s| s.controls.is_empty())
        .map(|s| s.id.as_str())
        .collect();
    assert!(
        bare.is_empty(),
        "services with no per-control entry: {bare:?}"
    );
}

#[test]
fn every_control_level_source_is_a_provider_page_too() {
    let bad: Vec<String> = Catalog::builtin()
        .services
        .iter()
        .flat_map(|s| {
            s.layers
                .iter()
                .chain(s.controls.iter())
                .filter_map(move |(id, e)| {
                    let url = e.source.as_ref()?.url()?;
                    generic(url).map(|why| format!("{} {id}: {url} is {why}", s.id))
                })
        })
        .collect();
    assert!(
        bad.is_empty(),
        "{} control entries cite generic pages:\n{}",
        bad.len(),
        bad.join("\n")
    );
}
