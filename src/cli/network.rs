//! `stack network`: networks on the engine, as `docker network`.

mod ipam;
mod listing;
mod template;

use super::engine::{self, api_message, filter_map};
use anyhow::{bail, Context, Result};
use bollard::errors::Error as ApiError;
use bollard::models::{
    EndpointIpamConfig, EndpointSettings, Ipam, NetworkConnectRequest, NetworkCreateRequest,
    NetworkDisconnectRequest,
};
use bollard::query_parameters::{InspectNetworkOptions, ListNetworksOptions, PruneNetworksOptions};
use bollard::Docker;
use stack_compose::env::Environment;
use std::collections::HashMap;
use std::process::ExitCode;
use template::Template;

#[derive(Debug, clap::Subcommand)]
pub enum NetworkCommand {
    /// Create a network
    Create(CreateArgs),
    /// Connect a container to a network
    Connect {
        /// Add a network-scoped alias for the container (repeatable)
        #[arg(long = "alias")]
        aliases: Vec<String>,
        /// IPv4 address (e.g. 172.30.100.104)
        #[arg(long)]
        ip: Option<String>,
        /// IPv6 address (e.g. 2001:db8::33)
        #[arg(long)]
        ip6: Option<String>,
        network: String,
        container: String,
    },
    /// Disconnect a container from a network
    Disconnect {
        /// Force the container to disconnect from a network
        #[arg(short, long)]
        force: bool,
        network: String,
        container: String,
    },
    /// Display detailed information on one or more networks
    Inspect {
        /// Format the output using the given Go template
        #[arg(short, long)]
        format: Option<String>,
        /// Verbose output for diagnostics
        #[arg(short, long)]
        verbose: bool,
        #[arg(required = true)]
        networks: Vec<String>,
    },
    /// List networks
    #[command(alias = "list")]
    Ls {
        /// Only display network IDs
        #[arg(short, long)]
        quiet: bool,
        /// Provide filter values (e.g. `driver=bridge`, `label=k=v`, `name=x`, `type=custom`)
        #[arg(short, long = "filter")]
        filters: Vec<String>,
        /// Format output: `table`, `table TEMPLATE`, `json` or a Go template
        #[arg(long)]
        format: Option<String>,
        /// Do not truncate the output
        #[arg(long)]
        no_trunc: bool,
    },
    /// Remove one or more networks
    #[command(alias = "remove")]
    Rm {
        /// Do not error if the network does not exist
        #[arg(short, long)]
        force: bool,
        #[arg(required = true)]
        networks: Vec<String>,
    },
    /// Remove all unused networks
    Prune {
        /// Do not prompt for confirmation (there is no prompt; accepted for docker compatibility)
        #[arg(short, long)]
        force: bool,
        /// Provide filter values (e.g. `until=24h`, `label=k=v`)
        #[arg(long = "filter")]
        filters: Vec<String>,
    },
}

/// `network create`'s flags, as docker's.
#[derive(Debug, clap::Args)]
pub struct CreateArgs {
    /// Driver to manage the Network
    #[arg(short, long, default_value = "bridge")]
    driver: String,
    /// Subnet in CIDR format that represents a network segment (repeatable)
    #[arg(long = "subnet")]
    subnets: Vec<String>,
    /// IPv4 or IPv6 Gateway for the master subnet (repeatable, one per subnet)
    #[arg(long = "gateway")]
    gateways: Vec<String>,
    /// Allocate container ip from a sub-range (repeatable, one per subnet)
    #[arg(long = "ip-range")]
    ip_ranges: Vec<String>,
    /// Auxiliary IPv4 or IPv6 addresses used by Network driver (NAME=ADDRESS)
    #[arg(long = "aux-address")]
    aux_addresses: Vec<String>,
    /// IP Address Management Driver
    #[arg(long, default_value = "default")]
    ipam_driver: String,
    /// Restrict external access to the network
    #[arg(long)]
    internal: bool,
    /// Enable manual container attachment
    #[arg(long)]
    attachable: bool,
    /// Enable or disable IPv6 networking
    #[arg(long)]
    ipv6: bool,
    /// Set metadata on a network (KEY=VALUE, repeatable)
    #[arg(long = "label")]
    labels: Vec<String>,
    /// Set driver specific options (KEY=VALUE, repeatable)
    #[arg(short, long = "opt")]
    opts: Vec<String>,
    name: String,
}

pub fn run(command: &NetworkCommand, env: &Environment) -> Result<ExitCode> {
    engine::with_client(env, |client| async move { execute(&client, command).await })
}

async fn execute(client: &Docker, command: &NetworkCommand) -> Result<ExitCode> {
    let mut failed = false;
    match command {
        NetworkCommand::Create(args) => create(client, args).await?,
        NetworkCommand::Connect {
            aliases,
            ip,
            ip6,
            network,
            container,
        } => {
            let ipam_config = (ip.is_some() || ip6.is_some()).then(|| EndpointIpamConfig {
                ipv4_address: ip.clone(),
                ipv6_address: ip6.clone(),
                ..Default::default()
            });
            let request = NetworkConnectRequest {
                container: container.clone(),
                endpoint_config: Some(EndpointSettings {
                    aliases: (!aliases.is_empty()).then(|| aliases.clone()),
                    ipam_config,
                    ..Default::default()
                }),
            };
            client
                .connect_network(network, request)
                .await
                .map_err(|e| explain(&e, Action::Connect(container), network))?;
        }
        NetworkCommand::Disconnect {
            force,
            network,
            container,
        } => {
            let request = NetworkDisconnectRequest {
                container: container.clone(),
                force: Some(*force),
            };
            client
                .disconnect_network(network, request)
                .await
                .map_err(|e| explain(&e, Action::Disconnect(container), network))?;
        }
        NetworkCommand::Inspect {
            format,
            verbose,
            networks,
        } => {
            let template = format.as_deref().map(Template::parse).transpose()?;
            let mut found = Vec::new();
            for name in networks {
                let options = InspectNetworkOptions {
                    verbose: *verbose,
                    scope: None,
                };
                match client.inspect_network(name, Some(options)).await {
                    Ok(network) => found.push(serde_json::to_value(network)?),
                    Err(e) => {
                        eprintln!("error: {:#}", explain(&e, Action::Inspect, name));
                        failed = true;
                    }
                }
            }
            match template {
                Some(template) => {
                    for network in &found {
                        println!("{}", template.render(network)?);
                    }
                }
                None => println!("{}", listing::pretty_json(&found)?),
            }
        }
        NetworkCommand::Ls {
            quiet,
            filters,
            format,
            no_trunc,
        } => {
            let networks = client
                .list_networks(Some(ListNetworksOptions {
                    filters: Some(filter_map(filters)?),
                }))
                .await
                .map_err(|e| anyhow::anyhow!("listing networks: {}", api_message(&e)))?;
            let format = listing::Format::choose(format.as_deref(), *quiet)?;
            print!("{}", listing::render(&networks, &format, *no_trunc)?);
        }
        NetworkCommand::Rm { force, networks } => {
            for name in networks {
                match client.remove_network(name).await {
                    Ok(()) => println!("{name}"),
                    Err(e) if *force && status(&e) == Some(404) => {}
                    Err(e) => {
                        eprintln!("error: {:#}", explain(&e, Action::Remove, name));
                        failed = true;
                    }
                }
            }
        }
        NetworkCommand::Prune { force: _, filters } => {
            let report = client
                .prune_networks(Some(PruneNetworksOptions {
                    filters: Some(filter_map(filters)?),
                }))
                .await
                .map_err(|e| anyhow::anyhow!("pruning networks: {}", api_message(&e)))?;
            let deleted = report.networks_deleted.unwrap_or_default();
            if !deleted.is_empty() {
                println!("Deleted Networks:");
                deleted.iter().for_each(|n| println!("{n}"));
            }
        }
    }
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

async fn create(client: &Docker, args: &CreateArgs) -> Result<()> {
    let config = ipam::configs(
        &args.subnets,
        &args.gateways,
        &args.ip_ranges,
        &pairs(&args.aux_addresses, "--aux-address")?,
    )
    .with_context(|| format!("network {}", args.name))?;
    let request = NetworkCreateRequest {
        name: args.name.clone(),
        driver: Some(args.driver.clone()),
        internal: Some(args.internal),
        attachable: Some(args.attachable),
        enable_ipv6: args.ipv6.then_some(true),
        ipam: Some(Ipam {
            driver: Some(args.ipam_driver.clone()),
            config: Some(config),
            options: None,
        }),
        options: Some(pairs(&args.opts, "--opt")?),
        labels: Some(pairs(&args.labels, "--label")?),
        ..Default::default()
    };
    let created = client
        .create_network(request)
        .await
        .map_err(|e| explain(&e, Action::Create, &args.name))?;
    if !created.warning.is_empty() {
        eprintln!("warning: {}", created.warning);
    }
    println!("{}", created.id);
    Ok(())
}

/// What was being done to a network when the engine refused.
enum Action<'a> {
    Create,
    Connect(&'a str),
    Disconnect(&'a str),
    Inspect,
    Remove,
}

fn status(e: &ApiError) -> Option<u16> {
    match e {
        ApiError::DockerResponseServerError { status_code, .. } => Some(*status_code),
        _ => None,
    }
}

/// The engine's refusal, naming the network and, for the refusals a user
/// can fix (4xx), saying what to do next.
fn explain(e: &ApiError, action: Action<'_>, network: &str) -> anyhow::Error {
    let message = api_message(e);
    let code = status(e).unwrap_or(0);
    let check_names = "check both names with `stack network ls` and `stack container ps -a`";
    let (what, advice) = match action {
        Action::Create => (
            format!("cannot create network {network}"),
            match code {
                409 => format!(
                    "choose another name, or remove the existing one with `stack network rm {network}`"
                ),
                _ => "check --subnet, --gateway and --ip-range against `stack network ls` and `ip route`".to_owned(),
            },
        ),
        Action::Connect(container) => (
            format!("cannot connect container {container} to network {network}"),
            match code {
                404 => check_names.to_owned(),
                _ => format!("see `stack network inspect {network}` for its subnet and containers"),
            },
        ),
        Action::Disconnect(container) => (
            format!("cannot disconnect container {container} from network {network}"),
            check_names.to_owned(),
        ),
        Action::Inspect => (
            format!("cannot inspect network {network}"),
            "`stack network ls` lists the networks".to_owned(),
        ),
        Action::Remove => (
            format!("cannot remove network {network}"),
            match code {
                403 | 409 => format!(
                    "disconnect or remove its containers first (`stack network inspect {network}` lists them)"
                ),
                _ => "`stack network ls` lists the networks".to_owned(),
            },
        ),
    };
    if (400..500).contains(&code) {
        anyhow::anyhow!("{what}: {message}; {advice}")
    } else {
        anyhow::anyhow!("{what}: {message}")
    }
}

/// `KEY=VALUE` options into a map, naming the flag of a malformed one.
fn pairs(items: &[String], flag: &str) -> Result<HashMap<String, String>> {
    items
        .iter()
        .map(|item| match item.split_once('=') {
            Some((k, v)) if !k.is_empty() => Ok((k.to_string(), v.to_string())),
            _ => bail!("invalid {flag} {item:?}: write KEY=VALUE"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_name_the_network_and_what_to_do() {
        let e = ApiError::DockerResponseServerError {
            status_code: 403,
            message: "network web has active endpoints".into(),
        };
        let text = explain(&e, Action::Remove, "web").to_string();
        assert!(
            text.starts_with(
                "cannot remove network web: network web has active endpoints; disconnect"
            ),
            "{text}"
        );
        let e = ApiError::DockerResponseServerError {
            status_code: 409,
            message: "network with name web already exists".into(),
        };
        let text = explain(&e, Action::Create, "web").to_string();
        assert!(text.contains("stack network rm web"), "{text}");
    }

    #[test]
    fn pairs_need_a_key() {
        assert!(pairs(&["=x".into()], "--label").is_err());
        assert_eq!(pairs(&["a=".into()], "--label").expect("pairs")["a"], "");
    }
}
