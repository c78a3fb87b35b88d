//! Which deployment a bare `castform rollback` goes back to, from the ledger alone: shared by the
//! rollback, which goes there, and by gc, which keeps it.

use super::ledger::Record;

/// The newest successful deploy before the current release (the newest successful deploy or
/// rollback; media operations and destroys are not releases, review S3-05) whose templates or
/// parameters differ from it. After a rollback, "before" means before the deployment it went back
/// to: rolling back twice goes further back, never forward again to the release just rolled back
/// (review S3-06). After a destroy there is no current release to go back from: a rollback would
/// rebuild the environment, which only `rollback --to` (or a deploy) asks for by name.
pub fn bare_target(records: &[Record]) -> Result<&Record, String> {
    let good: Vec<&Record> = records.iter().filter(|r| r.is_release()).collect();
    if good.is_empty() {
        return Err("no successful deployment is recorded".into());
    }
    let last_release = records.iter().rposition(|r| r.is_release());
    if let Some(d) = records.iter().rposition(|r| r.kind == "destroy" && r.result == "succeeded")
        && Some(d) > last_release
    {
        return Err(format!(
            "the environment was destroyed ({}) after its last release; there is nothing to roll back\nhelp: `castform deploy` it, or `castform rollback --to ID` to rebuild a recorded deployment (`castform history` lists them)",
            records[d].id
        ));
    }
    // walk back along what actually ran: the release before a deploy is the one before it in
    // time; a rollback stands for the deploy it went back to, and going back from it means going
    // back from that deploy (never forward to what it rolled back)
    let state_of = |i: usize| match (good[i].kind.as_str(), good[i].restored_to.as_deref()) {
        ("rollback", Some(to)) => good[..i].iter().position(|r| r.id == to).unwrap_or(i),
        _ => i,
    };
    let before = |mut i: usize| loop {
        let s = state_of(i);
        if s != i {
            i = s;
            continue;
        }
        break i.checked_sub(1).map(state_of);
    };
    let live = good[state_of(good.len() - 1)];
    let same = |r: &Record| {
        r.stacks.len() == live.stacks.len()
            && r.stacks.iter().all(|(n, s)| {
                live.stacks
                    .get(n)
                    .is_some_and(|c| c.template_sha256 == s.template_sha256 && c.parameters == s.parameters)
            })
    };
    let mut at = before(good.len() - 1);
    while let Some(i) = at.filter(|i| same(good[*i]) || good[*i].kind != "deploy") {
        at = before(i);
    }
    at.map(|i| good[i]).ok_or_else(|| {
        "there is no earlier successful deployment that differs from the current one\nhelp: `castform history` lists them"
            .into()
    })
}
