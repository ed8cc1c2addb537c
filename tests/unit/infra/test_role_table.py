from infra.role_table import README, readme_table, table


def test_the_readmes_role_table_is_the_templates() -> None:
    assert readme_table(README.read_text()) == table(), (
        "README.md's role table differs from template.yaml: run python -m infra.role_table --write"
    )


def test_the_table_names_each_components_grants() -> None:
    generated = table()
    assert "| worker (ECS task role) | `s3:GetObject` | UploadsBucket/* |" in generated
    assert "`sqs:GetQueueAttributes` | HighQueue, DefaultQueue, LightQueue |" in generated
    assert "(only if ses:FromAddress StringEquals EmailSender)" in generated
