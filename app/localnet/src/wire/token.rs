//! SPL Token and Token-2022 accounts as validators show them: the `jsonParsed` form of mints and
//! token accounts (`spl-token` / `spl-token-2022`, `tokenAmount` with `uiAmountString`, Token-2022
//! `extensions`) is made by the validators' own account decoder (`solana-account-decoder`); the
//! fields the RPC methods need are read from the programs' byte layouts (the programs themselves
//! run in LiteSVM).
use serde_json::{json, Value};
use solana_account::{AccountSharedData, ReadableAccount};
use solana_pubkey::Pubkey;

pub const SPL_TOKEN: Pubkey = solana_pubkey::pubkey!("TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA");
pub const TOKEN_2022: Pubkey =
    solana_pubkey::pubkey!("TokenzQdBNbLqP5VEhdkAS6EPFLC1PHnBqCXEpPxuEb");

const MINT_LEN: usize = 82;
const ACCOUNT_LEN: usize = 165;
/// Token-2022's account-type byte, after a mint padded to an account's size (1 mint, 2 account).
const ACCOUNT_TYPE: usize = 165;

pub fn is_token_program(program: &Pubkey) -> bool {
    *program == SPL_TOKEN || *program == TOKEN_2022
}

fn program_name(program: &Pubkey) -> &'static str {
    if *program == TOKEN_2022 {
        "spl-token-2022"
    } else {
        "spl-token"
    }
}

/// A mint's fields.
#[derive(Debug, Clone, PartialEq)]
pub struct Mint {
    pub mint_authority: Option<Pubkey>,
    pub supply: u64,
    pub decimals: u8,
    pub freeze_authority: Option<Pubkey>,
}

/// A token account's fields.
#[derive(Debug, Clone, PartialEq)]
pub struct TokenAccount {
    pub mint: Pubkey,
    pub owner: Pubkey,
    pub amount: u64,
    pub delegate: Option<Pubkey>,
    /// 1 initialized, 2 frozen.
    pub state: u8,
    pub is_native: Option<u64>,
    pub delegated_amount: u64,
    pub close_authority: Option<Pubkey>,
}

fn pubkey_at(d: &[u8], at: usize) -> Pubkey {
    let mut b = [0u8; 32];
    b.copy_from_slice(&d[at..at + 32]);
    Pubkey::new_from_array(b)
}

fn u64_at(d: &[u8], at: usize) -> u64 {
    let mut b = [0u8; 8];
    b.copy_from_slice(&d[at..at + 8]);
    u64::from_le_bytes(b)
}

fn option_pubkey(d: &[u8], at: usize) -> Option<Pubkey> {
    (d[at] == 1).then(|| pubkey_at(d, at + 4))
}

/// The mint in `account`, if it is an initialized mint of a token program.
pub fn mint(account: &AccountSharedData) -> Option<Mint> {
    let d = account.data();
    if !is_token_program(account.owner()) {
        return None;
    }
    let shaped = d.len() == MINT_LEN
        || (*account.owner() == TOKEN_2022 && d.len() > ACCOUNT_TYPE && d[ACCOUNT_TYPE] == 1);
    if !shaped || d[45] != 1 {
        return None;
    }
    Some(Mint {
        mint_authority: option_pubkey(d, 0),
        supply: u64_at(d, 36),
        decimals: d[44],
        freeze_authority: option_pubkey(d, 46),
    })
}

/// The token account in `account`, if it is an initialized token account of a token program.
pub fn token_account(account: &AccountSharedData) -> Option<TokenAccount> {
    let d = account.data();
    if !is_token_program(account.owner()) {
        return None;
    }
    let shaped = d.len() == ACCOUNT_LEN
        || (*account.owner() == TOKEN_2022 && d.len() > ACCOUNT_TYPE && d[ACCOUNT_TYPE] == 2);
    if !shaped || d[108] == 0 {
        return None;
    }
    Some(TokenAccount {
        mint: pubkey_at(d, 0),
        owner: pubkey_at(d, 32),
        amount: u64_at(d, 64),
        delegate: option_pubkey(d, 72),
        state: d[108],
        is_native: (d[109] == 1).then(|| u64_at(d, 113)),
        delegated_amount: u64_at(d, 121),
        close_authority: option_pubkey(d, 129),
    })
}

/// `amount` of a token with `decimals` as validators show it (`uiAmount` a float, `uiAmountString`
/// exact, trailing zeros cut).
pub fn ui_amount(amount: u64, decimals: u8) -> Value {
    let text = if decimals == 0 {
        amount.to_string()
    } else {
        let digits = format!("{amount:0>width$}", width = usize::from(decimals) + 1);
        let (whole, frac) = digits.split_at(digits.len() - usize::from(decimals));
        let frac = frac.trim_end_matches('0');
        if frac.is_empty() {
            whole.to_string()
        } else {
            format!("{whole}.{frac}")
        }
    };
    json!({
        "amount": amount.to_string(),
        "decimals": decimals,
        "uiAmount": text.parse::<f64>().ok(),
        "uiAmountString": text,
    })
}

/// The `jsonParsed` data of a mint, token account or multisig (`decimals` of a token account's
/// mint, which the caller reads), or `None` for anything else (the caller then answers base64, as
/// validators do). Parsed by agave's own decoder, so every Token-2022 extension reads as on a
/// cluster. Known difference: an interest-bearing or scaled-UI mint's accounts show the raw
/// `uiAmount` (a cluster applies the rate at its clock).
#[allow(deprecated)] // solana-account-decoder 3.x asks for its `agave-unstable-api` feature
pub fn parsed(
    account: &AccountSharedData,
    decimals_of: impl Fn(&Pubkey) -> Option<u8>,
) -> Option<Value> {
    use solana_account_decoder::parse_account_data::SplTokenAdditionalDataV2;
    if !is_token_program(account.owner()) {
        return None;
    }
    let additional = token_account(account)
        .and_then(|a| decimals_of(&a.mint))
        .map(SplTokenAdditionalDataV2::with_decimals);
    let parsed =
        solana_account_decoder::parse_token::parse_token_v3(account.data(), additional.as_ref())
            .ok()?;
    Some(json!({
        "program": program_name(account.owner()),
        "parsed": serde_json::to_value(parsed).ok()?,
        "space": account.data().len(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ui_amounts_as_validators_write_them() {
        assert_eq!(ui_amount(1_500_000, 6)["uiAmountString"], "1.5");
        assert_eq!(ui_amount(5, 6)["uiAmountString"], "0.000005");
        assert_eq!(ui_amount(2_000_000, 6)["uiAmountString"], "2");
        assert_eq!(ui_amount(0, 2)["uiAmountString"], "0");
        assert_eq!(ui_amount(7, 0)["uiAmountString"], "7");
        assert_eq!(ui_amount(1_500_000, 6)["uiAmount"], 1.5);
        assert_eq!(ui_amount(1_500_000, 6)["amount"], "1500000");
    }
}
