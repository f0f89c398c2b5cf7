from apps.core.privacy import mask_id_number, mask_phone, redact


def test_masks_keep_only_the_official_parts():
    assert mask_id_number("110101199003071234") == "110101********1234"
    assert mask_id_number("13102519500307001X") == "131025********001X"
    assert mask_phone("13812345678") == "138****5678"
    assert mask_id_number("") == ""


def test_redact_masks_numbers_inside_free_text():
    text = "第3行：身份证号110101199003071234已存在，电话13812345678"
    assert redact(text) == "第3行：身份证号110101********1234已存在，电话138****5678"
