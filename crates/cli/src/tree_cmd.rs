//! `omadm tree get|list --state DIR URI`: what a device holds, read offline from its state
//! directory, for support engineers. Read-only: nothing is written or created, no lock is
//! taken (it may run beside the agent; a record the agent is writing at that instant is not
//! seen yet), and secrets (AAuthSecret, AAuthData, ServerPW, ...) print as `(secret, not
//! shown)`. The tree, the DM accounts (both views) and the FUMO packages come from the state
//! directory; DevInfo and DevDetail are those `omadm agent` reports (a C host's own are in its
//! configuration, not the state directory).
//!
//! `get` prints a leaf's value, or an interior node's children one per line; `list` prints the
//! subtree, one node per line: `URI = value` for a leaf, `URI/` for an interior node.

use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use omadm_cm::{roles, Config as CmConfig, Manager, Principal, ReadOnlyStorage};
use omadm_csp::{AccountStore, DevDetailCsp, DevInfoCsp};

/// What `omadm tree` does.
#[derive(Subcommand)]
pub enum TreeCommand {
    /// Prints a node: a leaf's value, or an interior node's children.
    Get(TreeArgs),
    /// Prints a node and everything below it.
    List(TreeArgs),
}

/// Arguments of `omadm tree get|list`.
#[derive(Args)]
pub struct TreeArgs {
    /// State directory.
    #[arg(long)]
    state: PathBuf,
    /// The node (`./DMAcc`, `./DevInfo/Man`, `.` for the whole tree).
    uri: String,
}

const SECRET: &str = "(secret, not shown)";

/// The device's tree as the agent would mount it, read-only.
fn open_tree(state: &Path) -> Result<Manager, String> {
    if !state.join("tree").is_dir() {
        return Err(format!(
            "{}: not an agent's state directory (no tree)",
            state.display()
        ));
    }
    let mut tree = Manager::open(
        Box::new(ReadOnlyStorage::open(state.join("tree"))),
        CmConfig::default(),
    )
    .map_err(|e| format!("{}: {e}", state.join("tree").display()))?;
    let accounts =
        AccountStore::open_existing(Box::new(ReadOnlyStorage::open(state.join("accounts"))))
            .map_err(|e| format!("{}: {e}", state.join("accounts").display()))?;
    let mut device = crate::device::device_info();
    if let Ok(id) = std::fs::read_to_string(state.join("dev-id")) {
        device.dev_id = id.trim().to_owned();
    }
    let manager = roles::MANAGER | roles::OPERATOR | roles::OPERATOR_TPS;
    let limits = tree.config().uri_limits;
    let mount = |tree: &mut Manager, at: &str, csp: Box<dyn omadm_cm::Csp>| {
        tree.mount(at, csp, manager)
            .map_err(|e| format!("{at}: {e}"))
    };
    mount(&mut tree, "./DevInfo", Box::new(DevInfoCsp::new(&device)))?;
    mount(
        &mut tree,
        "./DevDetail",
        Box::new(DevDetailCsp::new(
            &crate::device::device_detail(),
            &limits,
            true,
        )),
    )?;
    mount(&mut tree, "./DMAcc", Box::new(accounts.v12_view()))?;
    mount(&mut tree, "./SyncML/DMAcc", Box::new(accounts.v11_view()))?;
    if state.join("fumo").is_dir() {
        if let Ok(store) =
            omadm_csp::fumo::FumoStore::open(Box::new(ReadOnlyStorage::open(state.join("fumo"))))
        {
            let root = omadm_csp::fumo::DEFAULT_FUMO_ROOT;
            mount(&mut tree, root, Box::new(store.csp(root)))?;
        }
    }
    Ok(tree)
}

fn shown(data: &[u8]) -> String {
    match std::str::from_utf8(data) {
        Ok(text) => omadm_syncml::printable(text).limit(4096).to_string(),
        Err(_) => format!(
            "hex:{}",
            data.iter().map(|b| format!("{b:02x}")).collect::<String>()
        ),
    }
}

/// Runs `omadm tree`.
pub fn run(command: TreeCommand) -> Result<(), String> {
    let local = Principal::Local {
        roles: roles::MANAGER,
    };
    match command {
        TreeCommand::Get(a) => {
            let mut tree = open_tree(&a.state)?;
            match tree.get(&local, &a.uri) {
                Ok(items) => {
                    let item = &items[0];
                    let data = item.data.as_deref().unwrap_or_default();
                    if item.format == "node" {
                        for name in std::str::from_utf8(data)
                            .unwrap_or_default()
                            .split('/')
                            .filter(|n| !n.is_empty())
                        {
                            outln!("{}", omadm_syncml::printable(name));
                        }
                    } else {
                        outln!("{}", shown(data));
                    }
                    Ok(())
                }
                Err(e) if e.status == 405 => {
                    outln!("{SECRET}");
                    Ok(())
                }
                Err(e) => Err(format!("{}: {e}", omadm_syncml::printable(&a.uri))),
            }
        }
        TreeCommand::List(a) => {
            let mut tree = open_tree(&a.state)?;
            let target = format!("{}?list=StructData", a.uri.trim_end_matches('/'));
            let items = tree
                .get(&local, &target)
                .map_err(|e| format!("{}: {e}", omadm_syncml::printable(&a.uri)))?;
            for item in items {
                let uri = omadm_syncml::printable(&item.uri).to_string();
                match (&item.data, &*item.format) {
                    (_, "node") => outln!("{uri}/"),
                    (Some(d), _) => outln!("{uri} = {}", shown(d)),
                    (None, _) => outln!("{uri} = {SECRET}"),
                }
            }
            Ok(())
        }
    }
}
