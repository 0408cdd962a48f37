"""The sample faces print every place name the generator can put on a page."""

from samples import fonts, vocab


def test_every_district_and_road_of_the_word_lists_can_be_printed():
    # 硚口区 (Wuhan) lies outside GB 2312; a batch that drew it used to stop with a font error.
    text = "".join(city.prefix + d.name + "".join(d.roads)
                   for city in vocab.CITIES for d in city.districts)
    assert "硚" in text
    assert fonts.missing_chars(text) == set()
