"""solana-py (AsyncClient) and solders, unchanged, against `roomcast localnet`.

solana-py's `confirm_transaction` polls `getSignatureStatuses` over HTTP; test_pubsub.py covers its
websocket API.
"""
import asyncio
import base64
import hashlib
import os
import unittest

from solana.rpc.async_api import AsyncClient
from solana.rpc.commitment import Confirmed
from solana.rpc.core import RPCException
from solana.rpc.models import MemcmpOpts, TxOpts
from solders.hash import Hash
from solders.instruction import AccountMeta, Instruction
from solders.keypair import Keypair
from solders.message import Message
from solders.pubkey import Pubkey
from solders.system_program import ID as SYSTEM_PROGRAM, TransferParams, transfer
from solders.transaction import Transaction

URL = os.environ["ROOMCAST_RPC_URL"]
PROGRAM_ID = Pubkey.from_string("CMjK3BfCNh747XGhxcDrB8krgJRzP6isffmHnSqrfpUu")
SOL = 1_000_000_000
REGISTRY_LEN = 8 + 32 + 32 + 8 + 1


def anchor_discriminator(namespace: str, name: str) -> bytes:
    return hashlib.sha256(f"{namespace}:{name}".encode()).digest()[:8]


def registry_address(admin: Pubkey) -> Pubkey:
    return Pubkey.find_program_address([b"registry", bytes(admin)], PROGRAM_ID)[0]


def initialize_registry_ix(admin: Pubkey, registrar: Pubkey) -> Instruction:
    return Instruction(
        PROGRAM_ID,
        anchor_discriminator("global", "initialize_registry") + bytes(registrar),
        [
            AccountMeta(admin, is_signer=True, is_writable=True),
            AccountMeta(registry_address(admin), is_signer=False, is_writable=True),
            AccountMeta(SYSTEM_PROGRAM, is_signer=False, is_writable=False),
        ],
    )


class LocalnetTest(unittest.IsolatedAsyncioTestCase):
    async def asyncSetUp(self):
        self.client = AsyncClient(URL, commitment=Confirmed)

    async def asyncTearDown(self):
        await self.client.close()

    async def funded(self, lamports: int = 2 * SOL) -> Keypair:
        k = Keypair()
        sig = (await self.client.request_airdrop(k.pubkey(), lamports)).value
        await self.client.confirm_transaction(sig, Confirmed, sleep_seconds=0.1)
        return k

    async def signed(self, ixs, signers) -> Transaction:
        blockhash = (await self.client.get_latest_blockhash()).value.blockhash
        message = Message.new_with_blockhash(ixs, signers[0].pubkey(), blockhash)
        return Transaction(signers, message, blockhash)

    async def test_version_blockhash_balance(self):
        self.assertTrue(await self.client.is_connected())
        version = (await self.client.get_version()).value
        self.assertEqual(version.solana_core, "3.1.12")
        latest = await self.client.get_latest_blockhash()
        self.assertIsInstance(latest.value.blockhash, Hash)
        height = (await self.client.get_block_height()).value
        self.assertGreaterEqual(latest.value.last_valid_block_height, height + 149)
        self.assertEqual(latest.context.api_version, "3.1.12")
        self.assertEqual((await self.client.get_balance(Keypair().pubkey())).value, 0)
        self.assertIsInstance((await self.client.get_slot()).value, int)
        epoch = (await self.client.get_epoch_info()).value
        self.assertEqual(epoch.slots_in_epoch, 432_000)
        rent = (await self.client.get_minimum_balance_for_rent_exemption(0)).value
        self.assertEqual(rent, 890_880)

    async def test_airdrop_and_confirmed_transfer(self):
        sender = await self.funded(2 * SOL)
        self.assertEqual((await self.client.get_balance(sender.pubkey())).value, 2 * SOL)
        receiver = Keypair().pubkey()
        tx = await self.signed(
            [transfer(TransferParams(from_pubkey=sender.pubkey(), to_pubkey=receiver, lamports=SOL))],
            [sender],
        )
        # skip_confirmation=False: solana-py confirms by polling getSignatureStatuses.
        resp = await self.client.send_transaction(tx, opts=TxOpts(skip_confirmation=False))
        self.assertEqual(resp.value, tx.signatures[0])
        self.assertEqual((await self.client.get_balance(receiver)).value, SOL)
        self.assertEqual((await self.client.get_balance(sender.pubkey())).value, SOL - 5_000)
        statuses = (await self.client.get_signature_statuses([resp.value])).value
        self.assertIsNone(statuses[0].err)
        got = (await self.client.get_transaction(resp.value, max_supported_transaction_version=0)).value
        self.assertEqual(got.transaction.meta.fee, 5_000)

        # The same transaction again: refused as already processed.
        with self.assertRaises(RPCException) as ctx:
            await self.client.send_raw_transaction(bytes(tx))
        self.assertIn("already been processed", str(ctx.exception))

    async def test_program_account_reads_and_filters(self):
        admin = await self.funded()
        registrar = Keypair().pubkey()
        tx = await self.signed([initialize_registry_ix(admin.pubkey(), registrar)], [admin])
        await self.client.send_transaction(tx, opts=TxOpts(skip_confirmation=False))
        registry = registry_address(admin.pubkey())

        account = (await self.client.get_account_info(registry)).value
        self.assertEqual(account.owner, PROGRAM_ID)
        self.assertEqual(len(account.data), REGISTRY_LEN)
        self.assertEqual(account.data[:8], anchor_discriminator("account", "Registry"))
        self.assertEqual(account.data[8:40], bytes(admin.pubkey()))
        self.assertEqual(account.data[40:72], bytes(registrar))
        # base64+zstd is decoded by solders to the same bytes.
        zstd = (await self.client.get_account_info(registry, encoding="base64+zstd")).value
        self.assertEqual(zstd.data, account.data)
        # jsonParsed falls back to base64 for program accounts.
        parsed = (await self.client.get_account_info_json_parsed(registry)).value
        self.assertEqual(parsed.owner, PROGRAM_ID)

        found = (
            await self.client.get_program_accounts(
                PROGRAM_ID,
                encoding="base64",
                filters=[REGISTRY_LEN, MemcmpOpts(offset=8, bytes=str(admin.pubkey()))],
            )
        ).value
        self.assertEqual([a.pubkey for a in found], [registry])
        self.assertEqual(found[0].account.data, account.data)
        multiple = (await self.client.get_multiple_accounts([registry, Keypair().pubkey()])).value
        self.assertEqual(multiple[0].data, account.data)
        self.assertIsNone(multiple[1])

    async def test_failing_instruction_reports_logs(self):
        admin = await self.funded()
        tx = await self.signed([initialize_registry_ix(admin.pubkey(), admin.pubkey())], [admin])
        await self.client.send_transaction(tx, opts=TxOpts(skip_confirmation=False))
        # A second initialize of the same registry: the system program refuses (account in use).
        again = await self.signed([initialize_registry_ix(admin.pubkey(), admin.pubkey())], [admin])
        with self.assertRaises(RPCException) as ctx:
            await self.client.send_transaction(again)
        failure = ctx.exception.args[0]
        self.assertEqual(failure.message.split(": ")[0], "Transaction simulation failed")
        logs = failure.data.logs
        self.assertEqual(logs[0], f"Program {PROGRAM_ID} invoke [1]")
        self.assertEqual(logs[-1], f"Program {PROGRAM_ID} failed: custom program error: 0x0")
        self.assertIn("InstructionError", str(failure.data.err))

    async def test_batch_of_parallel_airdrops(self):
        keys = [Keypair().pubkey() for _ in range(10)]
        sigs = await asyncio.gather(*(self.client.request_airdrop(k, SOL) for k in keys))
        for s in sigs:
            await self.client.confirm_transaction(s.value, Confirmed, sleep_seconds=0.1)
        balances = await asyncio.gather(*(self.client.get_balance(k) for k in keys))
        self.assertEqual([b.value for b in balances], [SOL] * 10)


if __name__ == "__main__":
    unittest.main()
