"""Transaction submission: results, every error code as Horizon sends it, async statuses, timeouts."""
from __future__ import annotations

import asyncio
import json
import time

import aiohttp
import pytest
from stellar_sdk import Asset, Keypair, ServerAsync, TransactionBuilder, TransactionEnvelope
from stellar_sdk import xdr as stellar_xdr
from stellar_sdk.client.aiohttp_client import AiohttpClient
from stellar_sdk.exceptions import BadRequestError, BadResponseError
from stellar_sdk.operation import ChangeTrust, CreateAccount, ManageBuyOffer, ManageSellOffer, Payment

from test.stellar_sandbox.integration.support import build, expect_failure, operation_results, submit

pytestmark = pytest.mark.integration

XLM = Asset.native()


def codes(error: BadRequestError) -> dict:
    assert error.status == 400 and error.type == "https://stellar.org/horizon-errors/transaction_failed"
    assert error.extras["envelope_xdr"] and error.result_xdr == error.extras["result_xdr"]
    return error.extras["result_codes"]


@pytest.fixture
async def funded(net):
    """Two accounts with lumens and an issued asset (not yet trusted by either)."""
    alice, bob = await asyncio.gather(net.create_account(100), net.create_account(100))
    usd = await net.issue_asset("USD")
    return alice, bob, usd


async def test_result_xdr_decodes_to_the_created_offer_and_claimed_offers(net, server, funded):
    alice, bob, usd = funded
    await asyncio.gather(net.trust_and_fund(alice, usd, "100"), net.trust_and_fund(bob, usd, "0.0000001"))
    made = await submit(server, net.passphrase, alice, [ManageSellOffer(usd, XLM, "10", "1.5"),
                                                        ManageSellOffer(usd, XLM, "10", "1.6")])
    first, second = (r.tr.manage_sell_offer_result.success.offer for r in operation_results(made["result_xdr"]))
    assert first.effect == stellar_xdr.ManageOfferEffect.MANAGE_OFFER_CREATED
    maker_ids = [first.offer.offer_id.int64, second.offer.offer_id.int64]
    assert maker_ids[1] > maker_ids[0]

    taken = await submit(server, net.passphrase, bob, [ManageBuyOffer(XLM, usd, "15", "2")])
    success = operation_results(taken["result_xdr"])[0].tr.manage_buy_offer_result.success
    claimed = [(c.order_book.offer_id.int64, c.order_book.amount_sold.int64, c.order_book.amount_bought.int64)
               for c in success.offers_claimed]
    assert claimed == [(maker_ids[0], 10 * 10**7, 15 * 10**7), (maker_ids[1], 5 * 10**7, 8 * 10**7)]
    assert success.offer.effect == stellar_xdr.ManageOfferEffect.MANAGE_OFFER_DELETED  # fully filled, nothing rests


async def test_transaction_level_errors(net, server, funded):
    alice, bob, _ = funded
    pay = [Payment(bob.public_key, XLM, "1")]
    bad_seq = await expect_failure(server, net.passphrase, alice, pay, sequence_offset=5)
    assert codes(bad_seq) == {"transaction": "tx_bad_seq"}
    too_late = await expect_failure(server, net.passphrase, alice, pay, time_bounds=(0, int(time.time()) - 60))
    assert codes(too_late) == {"transaction": "tx_too_late"}
    envelope = await build(server, net.passphrase, alice, pay)
    envelope.signatures.clear()
    envelope.sign(Keypair.random())
    with pytest.raises(BadRequestError) as wrong_signer:
        await server.submit_transaction(envelope, skip_memo_required_check=True)
    assert codes(wrong_signer.value) == {"transaction": "tx_bad_auth"}
    cheap = await build(server, net.passphrase, alice, pay)
    cheap.transaction.fee = 50
    cheap.signatures.clear()
    cheap.sign(alice)
    with pytest.raises(BadRequestError) as low_fee:
        await server.submit_transaction(cheap, skip_memo_required_check=True)
    assert codes(low_fee.value) == {"transaction": "tx_insufficient_fee"}


async def test_operation_level_errors(net, server, funded):
    alice, bob, usd = funded
    underfunded = await expect_failure(server, net.passphrase, alice, [Payment(bob.public_key, XLM, "5000")])
    assert codes(underfunded) == {"transaction": "tx_failed", "operations": ["op_underfunded"]}
    low_reserve = await expect_failure(server, net.passphrase, alice,
                                       [CreateAccount(Keypair.random().public_key, "0.5")])
    assert codes(low_reserve)["operations"] == ["op_low_reserve"]
    no_trust = await expect_failure(server, net.passphrase, net_issuer(net, usd), [Payment(bob.public_key, usd, "1")])
    assert codes(no_trust)["operations"] == ["op_no_trust"]
    await submit(server, net.passphrase, bob, [ChangeTrust(usd, limit="10")])
    line_full = await expect_failure(server, net.passphrase, net_issuer(net, usd), [Payment(bob.public_key, usd, "11")])
    assert codes(line_full)["operations"] == ["op_line_full"]
    not_found = await expect_failure(server, net.passphrase, alice,
                                     [ManageSellOffer(XLM, usd, "0", "1", offer_id=987654)])
    assert codes(not_found)["operations"] == ["op_offer_not_found"]
    await net.trust_and_fund(alice, usd, "5")
    await submit(server, net.passphrase, alice, [ManageSellOffer(usd, XLM, "5", "1")])
    cross_self = await expect_failure(server, net.passphrase, alice, [ManageBuyOffer(XLM, usd, "1", "1")])
    assert codes(cross_self)["operations"] == ["op_cross_self"]
    mixed = await expect_failure(server, net.passphrase, alice, [Payment(bob.public_key, XLM, "1"),
                                                                 Payment(bob.public_key, XLM, "9999")])
    assert codes(mixed) == {"transaction": "tx_failed", "operations": ["op_success", "op_underfunded"]}


def net_issuer(net, asset: Asset) -> Keypair:
    return net._issuers[(asset.code, asset.issuer)]


async def test_malformed_envelope_is_transaction_malformed(net):
    async with aiohttp.ClientSession() as session:
        for path in ("/transactions", "/transactions_async"):
            async with session.post(net.horizon_url + path, data={"tx": "not-an-envelope"}) as response:
                assert response.status == 400
                problem = await response.json()
            assert problem["type"] == "https://stellar.org/horizon-errors/transaction_malformed"
            assert problem["extras"]["envelope_xdr"] == "not-an-envelope"


async def test_failed_transaction_is_in_history_with_its_result(net, server, funded):
    alice, bob, _ = funded
    error = await expect_failure(server, net.passphrase, alice, [Payment(bob.public_key, XLM, "5000")])
    tx_hash = TransactionEnvelope.from_xdr(error.extras["envelope_xdr"], net.passphrase).hash_hex()
    record = await server.transactions().transaction(tx_hash).call()
    assert record["successful"] is False and record["result_xdr"] == error.result_xdr
    visible = await server.transactions().for_account(alice.public_key).include_failed(True).call()
    assert tx_hash in [t["hash"] for t in visible["_embedded"]["records"]]
    hidden = await server.transactions().for_account(alice.public_key).call()
    assert tx_hash not in [t["hash"] for t in hidden["_embedded"]["records"]]


async def test_resubmitting_an_applied_envelope_answers_its_result(net, server, funded):
    alice, bob, _ = funded
    envelope = await build(server, net.passphrase, alice, [Payment(bob.public_key, XLM, "1")])
    first = await server.submit_transaction(envelope, skip_memo_required_check=True)
    again = await server.submit_transaction(envelope, skip_memo_required_check=True)
    assert again["hash"] == first["hash"] and again["ledger"] == first["ledger"]


async def test_async_submission_statuses(manual_net):
    alice, bob = Keypair.random(), Keypair.random()
    funding = asyncio.gather(manual_net.horizon.root_agent.create_account(alice.public_key, 50),
                             manual_net.horizon.root_agent.create_account(bob.public_key, 50))
    while not funding.done():
        await manual_net.close_ledger()
        await asyncio.sleep(0.01)
    async with ServerAsync(manual_net.horizon_url, client=AiohttpClient()) as server:
        first = await build(server, manual_net.passphrase, alice, [Payment(bob.public_key, XLM, "1")])
        pending = await server.submit_transaction_async(first, skip_memo_required_check=True)
        assert pending == {"tx_status": "PENDING", "hash": first.hash_hex()}
        with pytest.raises(BadRequestError) as duplicate:
            await server.submit_transaction_async(first, skip_memo_required_check=True)
        assert duplicate.value.status == 409
        assert duplicate.value.message and '"tx_status": "DUPLICATE"' in duplicate.value.message
        second = await build(server, manual_net.passphrase, alice, [Payment(bob.public_key, XLM, "1")],
                             sequence_offset=1)
        with pytest.raises(BadResponseError) as later:
            await server.submit_transaction_async(second, skip_memo_required_check=True)
        assert later.value.status == 503 and '"TRY_AGAIN_LATER"' in later.value.message
        stale = await build(server, manual_net.passphrase, bob, [Payment(alice.public_key, XLM, "1")],
                            sequence_offset=-1)
        with pytest.raises(BadRequestError) as error:
            await server.submit_transaction_async(stale, skip_memo_required_check=True)
        assert error.value.status == 400
        body = json.loads(error.value.message)
        assert body["tx_status"] == "ERROR" and body["hash"] == stale.hash_hex()
        result = stellar_xdr.TransactionResult.from_xdr(body["error_result_xdr"])
        assert result.result.code == stellar_xdr.TransactionResultCode.txBAD_SEQ
        await manual_net.close_ledger()
        applied = await server.transactions().transaction(first.hash_hex()).call()
        assert applied["successful"] is True


async def test_sync_submission_times_out_with_504_when_no_ledger_closes(manual_net):
    alice = Keypair.random()
    funding = asyncio.ensure_future(manual_net.horizon.root_agent.create_account(alice.public_key, 50))
    while not funding.done():
        await manual_net.close_ledger()
        await asyncio.sleep(0.01)
    async with ServerAsync(manual_net.horizon_url, client=AiohttpClient()) as server:
        envelope = await build(server, manual_net.passphrase, alice,
                               [Payment(manual_net.network.root_keypair.public_key, XLM, "1")])
        with pytest.raises(BadResponseError) as timeout:
            await server.submit_transaction(envelope, skip_memo_required_check=True)
        assert timeout.value.status == 504
        assert timeout.value.type == "https://stellar.org/horizon-errors/transaction_submission_timeout"
        assert timeout.value.extras["hash"] == envelope.hash_hex()
        await manual_net.close_ledger()  # the lost submission still applies: look it up by hash
        assert (await server.transactions().transaction(envelope.hash_hex()).call())["successful"] is True


async def test_sync_client_submissions_from_one_account_each_wait_their_turn(net, sync_server, funded):
    alice, bob, _ = funded

    def pay_twice() -> list[dict]:
        account = sync_server.load_account(alice.public_key)
        answers = []
        for _ in range(2):
            envelope = (TransactionBuilder(account, net.passphrase, base_fee=100).add_time_bounds(0, 0)
                        .append_operation(Payment(bob.public_key, XLM, "1")).build())
            envelope.sign(alice)
            answers.append(sync_server.submit_transaction(envelope, skip_memo_required_check=True))
        return answers

    first, second = await asyncio.to_thread(pay_twice)
    assert first["successful"] and second["successful"] and second["ledger"] > first["ledger"]


async def test_channel_account_and_fee_bump_results(net, server, funded):
    trader, bob, _ = funded
    channel = await net.create_account(10)
    paid = await submit(server, net.passphrase, channel, [Payment(bob.public_key, XLM, "2", source=trader.public_key)],
                        signers=[trader])
    assert paid["source_account"] == channel.public_key and paid["successful"] is True
    unsigned = await expect_failure(server, net.passphrase, channel,
                                    [Payment(bob.public_key, XLM, "2", source=trader.public_key)])
    assert codes(unsigned) == {"transaction": "tx_failed", "operations": ["op_bad_auth"]}

    inner = await build(server, net.passphrase, trader, [Payment(bob.public_key, XLM, "5000")])
    bump = TransactionBuilder.build_fee_bump_transaction(channel.public_key, 200, inner, net.passphrase)
    bump.sign(channel)
    with pytest.raises(BadRequestError) as failed:
        await server.submit_transaction(bump, skip_memo_required_check=True)
    assert codes(failed.value) == {"transaction": "tx_fee_bump_inner_failed", "inner_transaction": "tx_failed",
                                   "operations": ["op_underfunded"]}
