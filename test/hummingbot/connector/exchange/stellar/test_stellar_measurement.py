import pytest

from hummingbot.connector.exchange.stellar import stellar_measurement as measurement


class ListRecorder:
    def __init__(self):
        self.samples = []
        self.counts = {}

    def add(self, point, duration_ns):
        self.samples.append((point, duration_ns))

    def incr(self, point, n):
        self.counts[point] = self.counts.get(point, 0) + n


@pytest.fixture(autouse=True)
def no_recorder_after_test():
    yield
    measurement.uninstall()


def test_disabled_by_default_and_calls_are_harmless():
    measurement.uninstall()
    assert not measurement.is_enabled()
    start = measurement.now()
    measurement.record(measurement.ORDER_CREATE_ACK, start)
    measurement.record_value(measurement.BOOK_UPDATE, 123)
    measurement.count(measurement.USER_STREAM_EVENT)


def test_installed_recorder_receives_samples_and_counts():
    recorder = ListRecorder()
    measurement.install(recorder)
    assert measurement.is_enabled()

    start = measurement.now()
    measurement.record(measurement.ORDER_CREATE_ACK, start)
    measurement.record_value(measurement.BOOK_SNAPSHOT, 42)
    measurement.count(measurement.CACHE_HIT_PREFIX + "instrument")
    measurement.count(measurement.CACHE_HIT_PREFIX + "instrument", 3)

    assert [point for point, _ in recorder.samples] == [measurement.ORDER_CREATE_ACK, measurement.BOOK_SNAPSHOT]
    assert recorder.samples[0][1] >= 0
    assert recorder.samples[1][1] == 42
    assert recorder.counts == {"cache_hit.instrument": 4}


def test_uninstall_stops_recording():
    recorder = ListRecorder()
    measurement.install(recorder)
    measurement.uninstall()
    measurement.record_value(measurement.FILL_PROCESSING, 1)
    measurement.count(measurement.FILL_PROCESSING)
    assert recorder.samples == [] and recorder.counts == {}
    assert not measurement.is_enabled()


def test_install_rejects_objects_without_the_recorder_methods():
    with pytest.raises(TypeError, match="add"):
        measurement.install(object())
    assert not measurement.is_enabled()


def test_now_is_monotonic_nanoseconds():
    first = measurement.now()
    second = measurement.now()
    assert isinstance(first, int) and second >= first


def test_point_names_are_distinct_strings():
    names = [measurement.ORDER_CREATE_ACK, measurement.ORDER_CREATE_CONFIRM, measurement.ORDER_CANCEL_ACK,
             measurement.ORDER_CANCEL_CONFIRM, measurement.ORDER_STATUS_UPDATE, measurement.FILL_PROCESSING,
             measurement.BOOK_SNAPSHOT, measurement.BOOK_UPDATE, measurement.USER_STREAM_EVENT,
             measurement.TX_BUILD_SIGN]
    assert len(set(names)) == len(names)
    assert measurement.ORDER_CREATE_ACK == "order_create.ack"
    assert measurement.HORIZON_CALL_PREFIX == "horizon." and measurement.RPC_CALL_PREFIX == "rpc."


def test_module_imports_only_the_standard_library():
    import ast
    import sys
    from pathlib import Path

    tree = ast.parse(Path(measurement.__file__).read_text())
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            imported.add(node.module.split(".")[0])
    assert imported <= set(sys.stdlib_module_names)
