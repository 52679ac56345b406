//! Who a request acts as, once `guard::auth` (signature or operator key) or `guard::sign_in` (a
//! session token) has authenticated it.
use roomcast_chain::Pubkey;

/// The authenticated caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Principal {
    /// A wallet that signed this request.
    Host(Pubkey),
    /// The operator's backend (bearer key).
    Operator,
}

impl Principal {
    /// May this caller act on a room hosted by `host`?
    pub fn may_act_for(&self, host: &Pubkey) -> bool {
        match self {
            Principal::Operator => true,
            Principal::Host(wallet) => wallet == host,
        }
    }
}
