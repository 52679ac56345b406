"""solana-py's websocket API (`SolanaWsClient`) against `roomcast localnet`'s PubSub."""
import asyncio
import os
import unittest

from solana.rpc.async_api import AsyncClient
from solana.rpc.commitment import Confirmed
from solana.rpc.models import MemcmpOpts
from solana.rpc.websocket_api import SolanaWsClient
from solders.keypair import Keypair
from solders.rpc.config import RpcTransactionLogsFilterMentions
from solders.rpc.responses import (
    AccountNotification,
    LogsNotification,
    ProgramNotification,
    RootNotification,
    SignatureNotification,
    SlotNotification,
)

from test_localnet import PROGRAM_ID, SOL, initialize_registry_ix, registry_address

URL = os.environ["ROOMCAST_RPC_URL"]
WS_URL = os.environ["ROOMCAST_WS_URL"]
WAIT = 10


class PubsubTest(unittest.IsolatedAsyncioTestCase):
    async def asyncSetUp(self):
        self.client = AsyncClient(URL, commitment=Confirmed)

    async def asyncTearDown(self):
        await self.client.close()

    async def recv(self, ws, kind):
        notification = await asyncio.wait_for(ws.recv(), WAIT)
        self.assertIsInstance(notification, kind)
        return notification

    async def test_signature_account_and_logs(self):
        watched = Keypair().pubkey()
        async with SolanaWsClient(WS_URL) as ws:
            account = await ws.account_subscribe(pubkey=watched, commitment=Confirmed, encoding="base64")
            logs = await ws.logs_subscribe(filter_=RpcTransactionLogsFilterMentions(watched))
            self.assertNotEqual(account.subscription_id, logs.subscription_id)
            sig = (await self.client.request_airdrop(watched, 2 * SOL)).value
            got = await self.recv(ws, AccountNotification)
            self.assertEqual(got.subscription, account.subscription_id)
            self.assertEqual(got.result.value.lamports, 2 * SOL)
            self.assertEqual(got.result.value.data, b"")
            got = await self.recv(ws, LogsNotification)
            self.assertEqual(got.result.value.signature, sig)
            self.assertIsNone(got.result.value.err)
            slot = (await self.client.get_signature_statuses([sig])).value[0].slot
            self.assertEqual(got.result.context.slot, slot)

            # Already landed: the one-shot notification comes at once.
            signature = await ws.signature_subscribe(signature=sig, commitment=Confirmed)
            got = await self.recv(ws, SignatureNotification)
            self.assertEqual(got.subscription, signature.subscription_id)
            self.assertIsNone(got.result.value.err)
            self.assertEqual(got.result.context.slot, slot)
            await ws.unsubscribe(account)
            await ws.unsubscribe(logs)

    async def test_program_subscribe_with_memcmp(self):
        admin = Keypair()
        sig = (await self.client.request_airdrop(admin.pubkey(), 2 * SOL)).value
        await self.client.confirm_transaction(sig, Confirmed, sleep_seconds=0.1)
        async with SolanaWsClient(WS_URL) as ws:
            sub = await ws.program_subscribe(
                program_id=PROGRAM_ID,
                encoding="base64",
                filters=[MemcmpOpts(offset=8, bytes=str(admin.pubkey()))],
            )
            blockhash = (await self.client.get_latest_blockhash()).value.blockhash
            from solders.message import Message
            from solders.transaction import Transaction

            message = Message.new_with_blockhash(
                [initialize_registry_ix(admin.pubkey(), admin.pubkey())], admin.pubkey(), blockhash
            )
            await self.client.send_raw_transaction(bytes(Transaction([admin], message, blockhash)))
            got = await self.recv(ws, ProgramNotification)
            self.assertEqual(got.subscription, sub.subscription_id)
            self.assertEqual(got.result.value.pubkey, registry_address(admin.pubkey()))
            self.assertEqual(got.result.value.account.owner, PROGRAM_ID)
            self.assertEqual(got.result.value.account.data[8:40], bytes(admin.pubkey()))

    async def test_slot_and_root(self):
        async with SolanaWsClient(WS_URL) as ws:
            await ws.slot_subscribe()
            await ws.root_subscribe()
            seen = set()
            while seen != {SlotNotification, RootNotification}:
                got = await asyncio.wait_for(ws.recv(), WAIT)
                seen.add(type(got))
                if isinstance(got, SlotNotification):
                    self.assertEqual(got.result.root, got.result.slot)
                    self.assertLess(got.result.parent, got.result.slot)
                else:
                    self.assertGreater(got.result, 0)


if __name__ == "__main__":
    unittest.main()
