"""The access matrix: for every route, every identity, and (for object routes) an object of each county.

Read a row as: route name, method, side (``A``: an object of 椒江, where every identity but ``oo`` works;
``B``: an object of 黄岩, owned by other people; ``-``: a route without an object), then the expected answer
for each identity in ``ROLES`` order:

    an anonymous · re resident (no link to anyone) · fa family (the A elder's daughter) · cg caregiver (A's
    provider) · pr provider admin (A) · of officer of A · oo officer of B (another area) · so standards office
    (city) · au auditor (city) · in institution admin (A's institution) · is inspector (A's pool)

Codes (``tests/security/asking.py``): a status, ``log`` for a redirect to the login page, ``3xx`` for any
other redirect. Writes are sent with a valid body (``urls.POST_DATA``), so a refusal is the permission check's.
A new route, a new API operation or a new role fails ``test_every_route_is_in_the_matrix`` until it has rows
here. Never edit a row to make a failing test pass without knowing why the answer changed: a row that goes from
404 to 200 for ``oo`` on side ``B`` is another county's data leaking.

A 3xx for a write can be a refusal shown as a message (``proactive:record``, ``compliance:pilot_decide``);
``test_horizontal.py`` checks that such writes changed nothing.
"""

from __future__ import annotations

from tests.security.world import ROLES

SHORT = ("an", "re", "fa", "cg", "pr", "of", "oo", "so", "au", "in", "is")
assert len(SHORT) == len(ROLES)

# fmt: off
TABLE = """
# route                              method side an  re  fa  cg  pr  of  oo  so  au  in  is
guide:home                           GET  -    200 200 200 200 200 200 200 200 200 200 200
guide:standard_list                  GET  -    200 200 200 200 200 200 200 200 200 200 200
guide:standard_detail                GET  -    200 200 200 200 200 200 200 200 200 200 200
guide:standard_version               GET  -    200 200 200 200 200 200 200 200 200 200 200
guide:standard_diff                  GET  -    200 200 200 200 200 200 200 200 200 200 200
guide:item_detail                    GET  -    200 200 200 200 200 200 200 200 200 200 200
guide:item_pdf                       GET  -    200 200 200 200 200 200 200 200 200 200 200
guide:search                         GET  -    200 200 200 200 200 200 200 200 200 200 200
guide:display_mode                   POST -    3xx 3xx 3xx 3xx 3xx 3xx 3xx 3xx 3xx 3xx 3xx
registry:reviews                     GET  -    log 403 403 403 403 200 200 200 200 403 403
registry:history                     GET  -    403 403 403 403 403 200 200 200 200 403 403
registry:transition                  POST -    403 403 403 403 403 403 403 3xx 403 403 403
accounts:login                       GET  -    200 200 200 200 200 200 200 200 200 200 200
accounts:logout                      POST -    3xx 3xx 3xx 3xx 3xx 3xx 3xx 3xx 3xx 3xx 3xx
accounts:lockouts                    GET  -    log 403 403 403 403 200 200 200 403 403 403
accounts:lockouts                    POST -    log 403 403 403 403 3xx 403 3xx 403 403 403
residents:list                       GET  -    log 403 403 403 403 200 200 403 200 403 403
residents:detail                     GET  A    log 404 404 404 404 200 404 404 200 404 404
residents:detail                     GET  B    log 404 404 404 404 404 200 404 200 404 404
residents:reveal                     POST A    403 404 404 404 404 200 404 404 403 404 404
residents:reveal                     POST B    403 404 404 404 404 404 200 404 403 404 404
residents:contact                    POST A    403 404 404 404 404 200 404 404 403 404 404
residents:contact                    POST B    403 404 404 404 404 404 200 404 403 404 404
residents:import                     GET  -    log 403 403 403 403 200 200 403 403 403 403
residents:load                       GET  -    log 403 403 403 403 200 200 403 403 403 403
residents:import_report              GET  A    log 404 404 404 404 404 404 200 404 404 404
residents:import_report              GET  B    log 404 404 404 404 404 200 404 404 404 404
residents:import_errors              GET  A    404 404 404 404 404 404 404 200 404 404 404
residents:import_errors              GET  B    404 404 404 404 404 404 200 404 404 404 404
eligibility:check                    GET  -    200 200 200 200 200 200 200 200 200 200 200
eligibility:townships                GET  -    200 200 200 200 200 200 200 200 200 200 200
proactive:overview                   GET  -    log 403 403 403 403 200 200 403 200 403 403
proactive:screen                     GET  -    log 403 403 403 403 200 200 200 403 403 403
proactive:run                        GET  -    log 403 403 403 403 200 200 403 200 403 403
proactive:list                       GET  -    403 403 403 403 403 200 200 403 200 403 403
proactive:record                     POST -    403 403 403 403 403 3xx 3xx 403 3xx 403 403
proactive:export                     GET  -    403 403 403 403 403 200 200 403 200 403 403
proactive:export_csv                 GET  -    403 403 403 403 403 200 200 403 200 403 403
proactive:people                     GET  A    403 403 403 403 403 200 200 403 200 403 403
proactive:people                     GET  B    403 403 403 403 403 200 200 403 200 403 403
applications:mine                    GET  -    log 200 200 200 200 200 200 200 200 200 200
applications:apply                   GET  -    log 200 200 403 403 200 200 403 403 403 403
applications:apply                   POST -    log 200 200 403 403 200 200 403 403 403 403
applications:inbox                   GET  -    log 403 403 403 403 200 200 403 403 403 403
applications:inbox_export            GET  -    log 403 403 403 403 200 200 403 403 403 403
applications:detail                  GET  A    log 404 200 404 404 200 404 404 404 404 404
applications:detail                  GET  B    log 404 404 404 404 404 200 404 404 404 404
applications:supply                  POST A    log 404 400 404 404 403 404 404 404 404 404
applications:supply                  POST B    log 404 404 404 404 404 403 404 404 404 404
applications:withdraw                POST A    log 404 3xx 404 404 403 404 404 404 404 404
applications:withdraw                POST B    log 404 404 404 404 404 403 404 404 404 404
applications:file                    GET  A    log 404 200 404 404 200 404 404 404 404 404
applications:file                    GET  B    log 404 404 404 404 404 200 404 404 404 404
applications:act                     POST A    log 404 403 404 404 3xx 404 404 404 404 404
applications:act                     POST B    log 404 404 404 404 404 3xx 404 404 404 404
applications:prefill                 GET  A    log 403 403 403 403 404 404 403 403 403 403
applications:prefill                 GET  B    log 403 403 403 403 404 404 403 403 403 403
applications:prefill                 POST A    log 403 403 403 403 404 404 403 403 403 403
applications:prefill                 POST B    log 403 403 403 403 404 404 403 403 403 403
applications:confirm                 GET  A    log 404 404 404 404 404 404 404 404 404 404
applications:confirm                 GET  B    log 404 404 404 404 404 404 404 404 404 404
applications:confirm                 POST A    log 404 404 404 404 404 404 404 404 404 404
applications:confirm                 POST B    log 404 404 404 404 404 404 404 404 404 404
applications:decline                 POST A    log 404 404 404 404 404 404 404 404 404 404
applications:decline                 POST B    log 404 404 404 404 404 404 404 404 404 404
applications:rate                    POST A    log 404 3xx 404 404 403 404 404 404 404 404
applications:rate                    POST B    log 404 404 404 404 404 403 404 404 404 404
applications:rectifications          GET  -    log 403 403 403 403 200 200 200 200 403 403
applications:rectification           GET  A    log 404 404 404 404 200 404 200 200 404 404
applications:rectification           GET  B    log 404 404 404 404 404 200 200 200 404 404
applications:rectification_act       POST A    log 404 404 404 404 3xx 404 403 403 404 404
applications:rectification_act       POST B    log 404 404 404 404 404 3xx 403 403 404 404
notices:inbox                        GET  -    log 200 200 200 200 200 200 200 200 200 200
notices:read                         POST A    log 404 3xx 404 404 404 404 404 404 404 404
notices:read                         POST B    log 404 404 404 404 404 404 404 404 404 404
notices:read_all                     POST -    log 3xx 3xx 3xx 3xx 3xx 3xx 3xx 3xx 3xx 3xx
notices:outbox                       GET  -    log 403 403 403 403 403 403 200 200 403 403
grants:finance_export                GET  -    log 403 403 403 403 200 200 403 403 403 403
homecare:family_home                 GET  -    log 200 200 3xx 404 404 404 404 404 404 404
homecare:family_home                 POST -    log 405 405 405 405 405 405 405 405 405 405
homecare:book                        GET  A    log 404 200 404 404 200 404 404 404 404 404
homecare:book                        GET  B    log 404 404 404 404 404 200 404 404 404 404
homecare:book                        POST A    log 404 400 404 404 400 404 404 404 404 404
homecare:book                        POST B    log 404 404 404 404 404 400 404 404 404 404
homecare:order                       GET  A    log 404 200 404 404 404 404 404 404 404 404
homecare:order                       GET  B    log 404 404 404 404 404 404 404 404 404 404
homecare:order                       POST A    log 405 405 405 405 405 405 405 405 405 405
homecare:order                       POST B    log 405 405 405 405 405 405 405 405 405 405
homecare:order_cancel                GET  A    log 405 405 405 405 405 405 405 405 405 405
homecare:order_cancel                GET  B    log 405 405 405 405 405 405 405 405 405 405
homecare:order_cancel                POST A    log 404 3xx 404 404 404 404 404 404 404 404
homecare:order_cancel                POST B    log 404 404 404 404 404 404 404 404 404 404
homecare:order_confirm               GET  A    log 405 405 405 405 405 405 405 405 405 405
homecare:order_confirm               GET  B    log 405 405 405 405 405 405 405 405 405 405
homecare:order_confirm               POST A    log 404 3xx 404 404 404 404 404 404 404 404
homecare:order_confirm               POST B    log 404 404 404 404 404 404 404 404 404 404
homecare:order_rate                  GET  A    log 405 405 405 405 405 405 405 405 405 405
homecare:order_rate                  GET  B    log 405 405 405 405 405 405 405 405 405 405
homecare:order_rate                  POST A    log 404 400 404 404 404 404 404 404 404 404
homecare:order_rate                  POST B    log 404 404 404 404 404 404 404 404 404 404
homecare:order_complain              GET  A    log 405 405 405 405 405 405 405 405 405 405
homecare:order_complain              GET  B    log 405 405 405 405 405 405 405 405 405 405
homecare:order_complain              POST A    log 404 3xx 404 404 404 404 404 404 404 404
homecare:order_complain              POST B    log 404 404 404 404 404 404 404 404 404 404
homecare:photo                       GET  A    log 404 200 200 200 200 404 404 200 404 404
homecare:photo                       GET  B    log 404 404 404 404 404 200 404 200 404 404
homecare:photo                       POST A    log 405 405 405 405 405 405 405 405 405 405
homecare:photo                       POST B    log 405 405 405 405 405 405 405 405 405 405
homecare:route                       GET  -    log 404 404 200 404 404 404 404 404 404 404
homecare:route                       POST -    log 405 405 405 405 405 405 405 405 405 405
homecare:visit                       GET  A    log 404 404 200 404 404 404 404 404 404 404
homecare:visit                       GET  B    log 404 404 404 404 404 404 404 404 404 404
homecare:visit                       POST A    log 405 405 405 405 405 405 405 405 405 405
homecare:visit                       POST B    log 405 405 405 405 405 405 405 405 405 405
homecare:visit_check_in              GET  A    log 405 405 405 405 405 405 405 405 405 405
homecare:visit_check_in              GET  B    log 405 405 405 405 405 405 405 405 405 405
homecare:visit_check_in              POST A    log 404 404 400 404 404 404 404 404 404 404
homecare:visit_check_in              POST B    log 404 404 404 404 404 404 404 404 404 404
homecare:visit_check_out             GET  A    log 405 405 405 405 405 405 405 405 405 405
homecare:visit_check_out             GET  B    log 405 405 405 405 405 405 405 405 405 405
homecare:visit_check_out             POST A    log 404 404 400 404 404 404 404 404 404 404
homecare:visit_check_out             POST B    log 404 404 404 404 404 404 404 404 404 404
homecare:visit_photo                 GET  A    log 405 405 405 405 405 405 405 405 405 405
homecare:visit_photo                 GET  B    log 405 405 405 405 405 405 405 405 405 405
homecare:visit_photo                 POST A    log 404 404 400 404 404 404 404 404 404 404
homecare:visit_photo                 POST B    log 404 404 404 404 404 404 404 404 404 404
homecare:visit_confirm               GET  A    log 405 405 405 405 405 405 405 405 405 405
homecare:visit_confirm               GET  B    log 405 405 405 405 405 405 405 405 405 405
homecare:visit_confirm               POST A    log 404 404 400 404 404 404 404 404 404 404
homecare:visit_confirm               POST B    log 404 404 404 404 404 404 404 404 404 404
homecare:visit_no_show               GET  A    log 405 405 405 405 405 405 405 405 405 405
homecare:visit_no_show               GET  B    log 405 405 405 405 405 405 405 405 405 405
homecare:visit_no_show               POST A    log 404 404 3xx 404 404 404 404 404 404 404
homecare:visit_no_show               POST B    log 404 404 404 404 404 404 404 404 404 404
homecare:office_home                 GET  -    log 403 403 403 200 200 200 403 200 403 403
homecare:order_accept                POST A    log 403 403 403 3xx 403 403 403 403 403 403
homecare:order_accept                POST B    log 403 403 403 404 403 403 403 403 403 403
homecare:order_decline               POST A    log 403 403 403 3xx 403 403 403 403 403 403
homecare:order_decline               POST B    log 403 403 403 404 403 403 403 403 403 403
homecare:plan_day                    GET  -    log 403 403 403 200 403 403 403 403 403 403
homecare:plan_day                    POST -    log 403 403 403 3xx 403 403 403 403 403 403
homecare:plan_absent                 POST -    log 403 403 403 3xx 403 403 403 403 403 403
homecare:caregivers                  GET  -    log 403 403 403 200 403 403 403 403 403 403
homecare:accounts                    GET  -    log 403 403 403 200 200 200 403 200 403 403
homecare:accounts                    POST -    log 403 403 403 403 3xx 3xx 403 403 403 403
homecare:account                     GET  A    log 403 403 403 200 200 404 403 200 403 403
homecare:account                     GET  B    log 403 403 403 404 404 200 403 200 403 403
homecare:account                     POST A    log 403 403 403 3xx 3xx 404 403 403 403 403
homecare:account                     POST B    log 403 403 403 404 404 3xx 403 403 403 403
homecare:account_family              POST A    log 404 403 404 403 3xx 404 404 403 404 404
homecare:account_family              POST B    log 404 404 404 404 404 3xx 404 403 404 404
homecare:complaints                  GET  -    log 403 403 403 403 200 200 403 200 403 403
homecare:complaint_resolve           POST A    log 403 403 403 403 3xx 404 403 403 403 403
homecare:complaint_resolve           POST B    log 403 403 403 403 404 3xx 403 403 403 403
homecare:overdue                     GET  -    log 403 403 403 403 200 200 403 200 403 403
homecare:reviews                     GET  -    log 403 403 403 403 200 200 403 200 403 403
homecare:review_decide               POST A    log 403 403 403 403 3xx 404 403 403 403 403
homecare:review_decide               POST B    log 403 403 403 403 404 3xx 403 403 403 403
homecare:location_proposal           POST A    log 403 403 403 403 3xx 404 403 403 403 403
homecare:location_proposal           POST B    log 403 403 403 403 404 3xx 403 403 403 403
homecare:county_outline              GET  -    log 403 403 403 200 200 200 403 200 403 403
homecare:settlements                 GET  -    log 403 403 403 200 200 200 200 200 403 403
homecare:settlement_generate         POST -    403 404 404 404 403 3xx 404 403 403 404 404
homecare:settlement                  GET  A    log 404 404 404 200 200 404 200 200 404 404
homecare:settlement                  GET  B    log 404 404 404 404 404 200 200 200 404 404
homecare:settlement_confirm          POST A    403 404 404 404 403 3xx 404 403 403 404 404
homecare:settlement_confirm          POST B    403 404 404 404 404 404 3xx 403 403 404 404
homecare:settlement_xlsx             GET  A    404 404 404 404 200 200 404 200 200 404 404
homecare:settlement_xlsx             GET  B    404 404 404 404 404 404 200 200 200 404 404
homecare:settlement_pdf              GET  A    404 404 404 404 200 200 404 200 200 404 404
homecare:settlement_pdf              GET  B    404 404 404 404 404 404 200 200 200 404 404
homecare:statement                   GET  A    log 404 200 404 200 200 404 404 200 404 404
homecare:statement                   GET  B    log 404 404 404 404 404 200 404 200 404 404
homecare:statement_pdf               GET  A    404 404 200 404 200 200 404 404 200 404 404
homecare:statement_pdf               GET  B    404 404 404 404 404 404 200 404 200 404 404
homecare:supervision                 GET  -    log 403 403 403 403 200 200 403 200 403 403
homecare:callbacks_sample            POST -    403 403 403 403 403 3xx 3xx 403 403 403 403
homecare:callback_record             POST A    403 404 404 404 404 400 404 404 403 404 404
homecare:callback_record             POST B    403 404 404 404 404 404 400 404 403 404 404
evaluation:dashboard                 GET  -    log 403 403 403 403 200 200 200 200 403 403
evaluation:standard                  GET  -    log 403 403 403 403 200 200 200 200 403 403
evaluation:area                      GET  A    log 403 403 403 403 200 404 200 200 403 403
evaluation:area                      GET  B    log 403 403 403 403 404 200 200 200 403 403
evaluation:standard_xlsx             GET  A    log 403 403 403 403 200 404 200 200 403 403
evaluation:standard_xlsx             GET  B    log 403 403 403 403 404 200 200 200 403 403
evaluation:standard_pdf              GET  A    log 403 403 403 403 200 404 200 200 403 403
evaluation:standard_pdf              GET  B    log 403 403 403 403 404 200 200 200 403 403
# Review and feedback (ADR 25): the report for the office and auditors; only the office decides and moderates;
# anyone (signed in or not) comments on a clause and reads the approved comments.
evaluation:review_index              GET  -    log 403 403 403 403 403 403 200 200 403 403
evaluation:review_report             GET  -    log 403 403 403 403 403 403 200 200 403 403
evaluation:review_decide             POST -    403 403 403 403 403 403 403 3xx 403 403 403
evaluation:review_pdf                GET  -    log 403 403 403 403 403 403 200 200 403 403
evaluation:feedback_inbox            GET  -    log 403 403 403 403 403 403 200 200 403 403
evaluation:feedback_moderate         POST -    403 403 403 403 403 403 403 3xx 403 403 403
evaluation:feedback_answer           POST -    403 403 403 403 403 403 403 3xx 403 403 403
evaluation:feedback_contact          POST -    403 403 403 403 403 403 403 200 403 403 403
evaluation:feedback_standard         GET  -    200 200 200 200 200 200 200 200 200 200 200
evaluation:feedback_clause           GET  -    200 200 200 200 200 200 200 200 200 200 200
evaluation:feedback_clause           POST -    3xx 3xx 3xx 3xx 3xx 3xx 3xx 3xx 3xx 3xx 3xx
evaluation:quality                   GET  -    log 403 403 403 403 200 200 200 200 403 403
evaluation:quality_area              GET  A    log 403 403 403 403 200 404 200 200 403 403
evaluation:quality_area              GET  B    log 403 403 403 403 404 200 200 200 403 403
evaluation:public                    GET  -    200 200 200 200 200 200 200 200 200 200 200
evaluation:publish                   GET  -    log 403 403 403 403 403 403 200 403 403 403
evaluation:publish                   POST -    log 403 403 403 403 403 403 3xx 403 403 403
evaluation:manual                    GET  -    log 403 403 403 403 403 403 403 403 403 403
evaluation:manual                    POST -    log 403 403 403 403 403 403 403 403 403 403
compliance:find                      GET  -    200 200 200 200 200 200 200 200 200 200 200
compliance:institution               GET  A    200 200 200 200 200 200 200 200 200 200 200
compliance:institution               GET  B    200 200 200 200 200 200 200 200 200 200 200
compliance:results                   GET  -    200 200 200 200 200 200 200 200 200 200 200
compliance:result                    GET  A    200 200 200 200 200 200 200 200 200 200 200
compliance:result                    GET  B    200 200 200 200 200 200 200 200 200 200 200
compliance:draw                      GET  A    404 404 404 404 404 404 404 404 404 404 404
compliance:draw                      GET  B    404 404 404 404 404 404 404 404 404 404 404
compliance:coverage                  GET  -    200 200 200 200 200 200 200 200 200 200 200
compliance:coverage_xlsx             GET  -    200 200 200 200 200 200 200 200 200 200 200
compliance:counties_geojson          GET  -    200 200 200 200 200 200 200 200 200 200 200
compliance:office                    GET  -    log 403 403 403 403 200 200 200 200 403 403
compliance:office_institutions       GET  -    log 403 403 403 403 200 200 200 200 403 403
compliance:import                    GET  -    log 403 403 403 403 200 200 403 403 403 403
compliance:import_errors             GET  A    log 403 403 403 403 200 404 403 403 403 403
compliance:import_errors             GET  B    log 403 403 403 403 404 200 403 403 403 403
compliance:draw_new                  GET  -    log 403 403 403 403 200 200 403 403 403 403
compliance:office_draw               GET  A    log 403 403 403 403 200 404 200 200 403 403
compliance:office_draw               GET  B    log 403 403 403 403 404 200 200 200 403 403
compliance:draw_publish              POST A    log 403 403 403 403 3xx 404 403 403 403 403
compliance:draw_publish              POST B    log 403 403 403 403 404 3xx 403 403 403 403
compliance:draw_redo                 POST A    log 403 403 403 403 3xx 404 403 403 403 403
compliance:draw_redo                 POST B    log 403 403 403 403 404 3xx 403 403 403 403
compliance:inspection_publish        POST A    log 403 403 403 403 3xx 404 403 403 403 403
compliance:inspection_publish        POST B    log 403 403 403 403 404 3xx 403 403 403 403
compliance:rectifications            GET  -    log 403 403 403 403 200 200 200 200 403 403
compliance:pilots                    GET  -    log 403 403 403 403 200 200 200 200 403 403
compliance:pilots                    POST -    log 403 403 403 403 403 403 200 403 403 403
compliance:pilot                     GET  A    log 403 403 403 403 200 200 200 200 403 403
compliance:pilot                     GET  B    log 403 403 403 403 200 200 200 200 403 403
compliance:pilot_decide              POST A    log 403 403 403 403 403 403 3xx 403 403 403
compliance:pilot_decide              POST B    log 403 403 403 403 403 403 3xx 403 403 403
compliance:field                     GET  -    log 403 403 403 403 403 403 403 403 403 200
compliance:inspection                GET  A    log 403 403 403 404 200 404 200 200 404 200
compliance:inspection                GET  B    log 403 403 403 404 404 200 200 200 404 404
compliance:start                     POST A    log 403 403 403 403 403 403 403 403 403 3xx
compliance:start                     POST B    log 403 403 403 403 403 403 403 403 403 404
compliance:answer                    POST A    log 403 403 403 404 403 404 403 403 404 3xx
compliance:answer                    POST B    log 403 403 403 404 404 403 403 403 404 404
compliance:evidence                  POST A    log 403 403 403 404 403 404 403 403 404 3xx
compliance:evidence                  POST B    log 403 403 403 404 404 403 403 403 404 404
compliance:sign                      POST A    log 403 403 403 404 403 404 403 403 404 3xx
compliance:sign                      POST B    log 403 403 403 404 404 403 403 403 404 404
compliance:reinspect                 POST A    log 403 403 403 403 3xx 404 403 403 403 3xx
compliance:reinspect                 POST B    log 403 403 403 403 404 3xx 403 403 403 404
compliance:record                    GET  A    200 200 200 200 200 200 200 200 200 200 200
compliance:record                    GET  B    200 200 200 200 200 200 200 200 200 200 200
compliance:evidence_file             GET  A    log 403 403 403 404 200 404 200 200 404 200
compliance:evidence_file             GET  B    log 403 403 403 404 404 200 200 200 404 404
compliance:order                     GET  A    log 403 403 403 404 200 404 200 200 200 200
compliance:order                     GET  B    log 403 403 403 404 404 200 200 200 404 404
compliance:order_evidence            POST A    log 403 403 403 404 403 403 403 403 3xx 403
compliance:order_evidence            POST B    log 403 403 403 404 403 403 403 403 404 403
compliance:order_answer              POST A    log 403 403 403 404 403 403 403 403 3xx 403
compliance:order_answer              POST B    log 403 403 403 404 403 403 403 403 404 403
compliance:order_decide              POST A    log 403 403 403 403 3xx 404 403 403 403 3xx
compliance:order_decide              POST B    log 403 403 403 403 404 3xx 403 403 403 404
compliance:mine                      GET  -    log 403 403 403 200 403 403 403 403 200 403
compliance:self_assess               POST A    log 403 403 403 404 403 403 403 403 3xx 403
compliance:self_assess               POST B    log 403 403 403 404 403 403 403 403 404 403
jobs:list                            GET  -    log 200 200 200 200 200 200 200 200 200 200
jobs:detail                          GET  A    log 404 404 404 404 200 404 404 404 404 404
jobs:detail                          GET  B    log 404 404 404 404 404 200 404 404 404 404
jobs:panel                           GET  A    404 404 404 404 404 200 404 404 404 404 404
jobs:panel                           GET  B    404 404 404 404 404 404 200 404 404 404 404
api-1.0.0:openapi-json               GET  -    200 200 200 200 200 200 200 200 200 200 200
api-1.0.0:openapi-view               GET  -    200 200 200 200 200 200 200 200 200 200 200
api-1.0.0:list_standards             GET  -    200 200 200 200 200 200 200 200 200 200 200
api-1.0.0:get_standard               GET  -    200 200 200 200 200 200 200 200 200 200 200
api-1.0.0:list_items                 GET  -    200 200 200 200 200 200 200 200 200 200 200
api-1.0.0:get_item                   GET  -    200 200 200 200 200 200 200 200 200 200 200
api-1.0.0:list_areas                 GET  -    200 200 200 200 200 200 200 200 200 200 200
api-1.0.0:get_area                   GET  A    200 200 200 200 200 200 200 200 200 200 200
api-1.0.0:get_area                   GET  B    200 200 200 200 200 200 200 200 200 200 200
api-1.0.0:search                     GET  -    422 422 422 422 422 422 422 422 422 422 422
api-1.0.0:list_facts                 GET  -    200 200 200 200 200 200 200 200 200 200 200
api-1.0.0:eligibility                POST -    200 200 200 200 200 200 200 200 200 200 200
api-1.0.0:list_projects              GET  -    200 200 200 200 200 200 200 200 200 200 200
api-1.0.0:book                       GET  -    401 200 200 200 200 200 200 200 200 200 200
api-1.0.0:book                       POST -    401 422 422 422 422 422 422 422 422 422 422
api-1.0.0:list_orders                GET  -    401 200 200 200 200 200 200 200 200 200 200
api-1.0.0:list_orders                POST -    401 422 422 422 422 422 422 422 422 422 422
api-1.0.0:get_order                  GET  A    401 404 200 200 200 200 404 404 200 404 404
api-1.0.0:get_order                  GET  B    401 404 404 404 404 404 200 404 200 404 404
api-1.0.0:cancel_order               POST A    401 404 200 404 200 200 404 404 403 404 404
api-1.0.0:cancel_order               POST B    401 404 404 404 404 404 200 404 403 404 404
api-1.0.0:statement                  GET  A    401 404 200 404 200 200 404 404 200 404 404
api-1.0.0:statement                  GET  B    401 404 404 404 404 404 200 404 200 404 404
api-1.0.0:submit                     GET  -    401 200 200 200 200 200 200 200 200 200 200
api-1.0.0:submit                     POST -    401 422 422 422 422 422 422 422 422 422 422
api-1.0.0:list_applications          GET  -    401 200 200 200 200 200 200 200 200 200 200
api-1.0.0:list_applications          POST -    401 422 422 422 422 422 422 422 422 422 422
api-1.0.0:get_application            GET  A    401 404 200 404 404 200 404 404 404 404 404
api-1.0.0:get_application            GET  B    401 404 404 404 404 404 200 404 404 404 404
api-1.0.0:act                        POST A    401 404 403 404 404 200 404 404 404 404 404
api-1.0.0:act                        POST B    401 404 404 404 404 404 200 404 404 404 404
api-1.0.0:supply_files               POST A    401 404 409 404 404 403 404 404 404 404 404
api-1.0.0:supply_files               POST B    401 404 404 404 404 404 403 404 404 404 404
api-1.0.0:api-root                   GET  -    404 404 404 404 404 404 404 404 404 404 404
set_language                         GET  -    3xx 3xx 3xx 3xx 3xx 3xx 3xx 3xx 3xx 3xx 3xx
healthz                              GET  -    200 200 200 200 200 200 200 200 200 200 200
readyz                               GET  -    200 200 200 200 200 200 200 200 200 200 200
favicon.ico                          GET  -    3xx 3xx 3xx 3xx 3xx 3xx 3xx 3xx 3xx 3xx 3xx"""
# fmt: on

# The Django admin (every ModelAdmin's pages): only the standards office is staff. Asked on every admin route
# without arguments; routes with an object id are the same views with an object.
ADMIN_ROW = "log log log log log log log {so} log log log"


def parse(table: str) -> dict[tuple[str, str, str], dict[str, str]]:
    rows: dict[tuple[str, str, str], dict[str, str]] = {}
    for line in table.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        name, method, side, *codes = line.split()
        assert len(codes) == len(ROLES), f"{name} {method} {side}: {len(codes)} codes for {len(ROLES)} roles"
        key = (name, method, side)
        assert key not in rows, f"{key} twice in the matrix"
        rows[key] = dict(zip(ROLES, codes, strict=True))
    return rows


MATRIX = parse(TABLE)

# Cases that fail today because of a hole being closed on another branch (issue 9), or found here and reported.
# Each is xfail(strict=True): when the fix lands the case passes, the strict xfail fails, and the line goes.
XFAIL: dict[tuple[str, str, str, str], str] = {}
