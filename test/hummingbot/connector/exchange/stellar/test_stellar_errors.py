from hummingbot.connector.exchange.stellar import stellar_constants as CONSTANTS
from hummingbot.connector.exchange.stellar.stellar_errors import StellarOrderRejected


def test_a_known_code_reads_the_connectors_message_whatever_the_pipeline_said():
    error = StellarOrderRejected("op_underfunded", "raw words", "HBOT-1")
    assert error.code == "op_underfunded"
    assert CONSTANTS.RESULT_CODE_MESSAGES["op_underfunded"] in str(error)
    assert "Stellar rejected the order HBOT-1: op_underfunded" in str(error)


def test_the_minseq_code_as_horizon_spells_it_has_its_message():
    error = StellarOrderRejected("tx_bad_minseq_age_or_gap", None, "HBOT-2")
    assert CONSTANTS.RESULT_CODE_MESSAGES["tx_bad_minseq_age_or_gap"] in str(error)


def test_an_unknown_code_keeps_the_pipelines_words_and_no_code_says_so():
    assert "(gave up after 5 transactions)" in str(StellarOrderRejected("submit_failed", "gave up after 5 transactions",
                                                                        "HBOT-3"))
    assert "Unknown Stellar result code 'op_new'" in str(StellarOrderRejected("op_new", None, "HBOT-4"))
    assert "None (no result code)" in str(StellarOrderRejected(None, None, "HBOT-5", "cancel of"))
