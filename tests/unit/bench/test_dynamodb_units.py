"""DynamoDB units as DynamoDB bills them: item sizes, the larger image, each index apart."""

from bench.dynamodb_units import Index, item_size, read_units, write_cost

KEYS = ("job_id",)
BY_DAY = Index("by_day", ("day_shard", "created_at"), "INCLUDE", ("task",))
BY_DAY_ALL = Index("by_day", ("day_shard", "created_at"), "ALL")
BY_USER = Index("by_user", ("user_id", "created_at"), "KEYS_ONLY")


def job(**extra: dict[str, str]) -> dict[str, dict[str, str]]:
    return {
        "job_id": {"S": "j1"},
        "day_shard": {"S": "2026-12-01#3"},
        "created_at": {"S": "2026-12-01T10:00:00.000Z"},
        "task": {"S": "skylane.send_email"},
        "state": {"S": "PENDING"},
        **extra,
    }


def test_sizes_count_names_and_values() -> None:
    assert item_size({"ab": {"S": "héllo"}}) == 2 + 6  # UTF-8 bytes
    assert item_size({"n": {"N": "12345"}}) == 1 + 4  # 5 digits: 3 bytes + 1
    assert item_size({"b": {"BOOL": True}, "m": {"M": {"k": {"S": "v"}}}}) == 2 + 1 + 3 + 1 + 1 + 1
    assert item_size(None) == 0


def test_a_write_costs_a_unit_per_started_kilobyte_of_the_larger_image() -> None:
    small = job()
    large = job(result={"S": "x" * 1500})
    assert write_cost(None, small, KEYS, [])["table"] == 1
    assert write_cost(small, large, KEYS, [])["table"] == 2
    assert write_cost(large, small, KEYS, [])["table"] == 2


def test_an_index_that_projects_everything_is_written_on_every_update() -> None:
    started = job(state={"S": "STARTED"})
    assert write_cost(job(), started, KEYS, [BY_DAY_ALL]) == {"table": 1, "by_day": 1}


def test_an_index_is_not_written_when_nothing_it_holds_changes() -> None:
    started = job(state={"S": "STARTED"})
    assert write_cost(None, job(), KEYS, [BY_DAY]) == {"table": 1, "by_day": 1}
    assert write_cost(job(), started, KEYS, [BY_DAY]) == {"table": 1}


def test_a_record_without_the_index_key_never_reaches_a_sparse_index() -> None:
    assert write_cost(None, job(), KEYS, [BY_USER]) == {"table": 1}
    with_user = job(user_id={"S": "42"})
    assert write_cost(None, with_user, KEYS, [BY_USER]) == {"table": 1, "by_user": 1}


def test_moving_an_index_key_deletes_and_puts() -> None:
    moved = job(day_shard={"S": "2026-12-02#3"})
    assert write_cost(job(), moved, KEYS, [BY_DAY])["by_day"] == 2


def test_a_refused_write_costs_the_table_only() -> None:
    assert write_cost(job(), job(), KEYS, [BY_DAY_ALL], refused=True) == {"table": 1}


def test_reads_are_per_started_4_kb_and_half_when_eventually_consistent() -> None:
    assert read_units(100, consistent=True) == 1.0
    assert read_units(100, consistent=False) == 0.5
    assert read_units(4097, consistent=True) == 2.0
