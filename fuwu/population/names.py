"""Character pools for synthetic Chinese names (modelled; no real person is meant)."""

from __future__ import annotations

# Common surnames in Taizhou with rough relative weights: 王, 陈, 林 and 李 lead in the city; the
# weights are a modelled Zipf-like tail, not a published frequency table.
SURNAMES: tuple[tuple[str, float], ...] = (
    ("王", 8.0), ("陈", 7.5), ("林", 6.0), ("李", 4.5), ("张", 4.0), ("黄", 3.0), ("徐", 2.6), ("郑", 2.5),
    ("叶", 2.3), ("金", 2.2), ("周", 2.1), ("杨", 2.0), ("吴", 2.0), ("赵", 1.6), ("卢", 1.5), ("蒋", 1.4),
    ("潘", 1.4), ("许", 1.3), ("朱", 1.3), ("应", 1.2), ("梁", 1.1), ("何", 1.1), ("胡", 1.0), ("刘", 1.0),
    ("方", 1.0), ("罗", 0.9), ("柯", 0.8), ("陶", 0.8), ("冯", 0.7), ("娄", 0.7), ("颜", 0.7), ("章", 0.7),
    ("阮", 0.6), ("丁", 0.6), ("江", 0.6), ("项", 0.6), ("毛", 0.5), ("洪", 0.5), ("蔡", 0.5), ("施", 0.5),
    ("余", 0.5), ("邱", 0.5), ("戴", 0.4), ("郭", 0.4), ("季", 0.4), ("屈", 0.4), ("管", 0.4), ("鲍", 0.3),
    ("泮", 0.3), ("解", 0.3), ("褚", 0.3), ("牟", 0.3), ("池", 0.3), ("葛", 0.3), ("程", 0.3), ("钟", 0.3),
)  # fmt: skip

# Given-name characters change with the times: pools for people born before 1980 and from 1980 on.
MALE_OLDER = "国建华明德荣根福宝庆祥忠文志平海东林军强伟勇富贵才生友昌洪发金兴"
MALE_YOUNGER = "杰峰斌波涛鹏飞超浩宇俊磊辉晨阳博睿轩泽宸子涵哲皓铭煜凯航嘉豪逸琪奕"
FEMALE_OLDER = "秀英兰芳珍凤玉桂花梅琴美丽华素月娥香红霞萍娟菊仙翠云彩爱"
FEMALE_YOUNGER = "婷雪慧颖洁佳欣怡悦琳晶倩雅璐诗涵梦彤妍嘉静敏燕玲莉琪萱可馨瑶"
BORN_YOUNGER_FROM = 1980
TWO_CHARACTER_GIVEN = (0.75, 0.85)  # older, younger: share of two-character given names
