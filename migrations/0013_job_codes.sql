-- Reason: codes in storage, words at the edge, and following jobs that does not grow
-- with the moderation log (issue 20).
--
-- How many of an order's portraits the safety check withheld is read for every
-- delivered order: an index on the audit log's order id answers it without reading the
-- whole log (the query's expression and condition match the index's exactly).

CREATE INDEX IF NOT EXISTS moderation_withheld_order
    ON moderation_actions (json_extract(detail, '$.order_id'))
    WHERE action = 'output_withheld';

-- Old rows' failures were English sentences (this version's own words, or an older
-- engine's sentence): each becomes its code (bot/store/codes.py), an avatar refusal
-- its code and problem; a sentence no version of these words wrote becomes 'unknown'
-- (shown as the generic words, as before). Words are made when a message is sent.
-- (A semicolon inside a sentence is written char(59): the runner splits on it.)

UPDATE orders SET error = CASE error
    WHEN 'the studio''s engine could not read the order' THEN 'bad_request'
    WHEN 'the image could not be read or processed' THEN 'bad_image'
    WHEN 'the description is too long for this model' || char(59) || ' shorten your own answers (attire, setting, lighting, composition) and order again' THEN 'prompt_too_long'
    WHEN 'the studio''s content check read your answers as nude, sexual or about a minor, so nothing was painted' || char(59) || ' Sitter makes portraits of adults in clothes that are fine to show anyone: change your answers and order again' THEN 'refused_prompt'
    WHEN 'your photos were measured with a different face model than the studio uses now' || char(59) || ' send them again with /photos' THEN 'identity_mismatch'
    WHEN 'a reference photo shows a face that is protected (its owner asked not to have it used), so nothing was painted' || char(59) || ' /photos to send others' THEN 'protected'
    WHEN 'it did not pass the safety check' THEN 'withheld'
    WHEN 'the studio can''t do this right now' THEN 'not_available'
    WHEN 'the studio''s engine was still starting up' THEN 'not_ready'
    WHEN 'the studio''s engine ran out of memory' THEN 'out_of_memory'
    WHEN 'the job was stopped' THEN 'dropped'
    WHEN 'the studio''s engine hit an unexpected error' THEN 'internal'
    WHEN 'the studio''s engine lost the job' THEN 'lost'
    WHEN 'the studio''s engine sent an answer I could not read' THEN 'bad_result'
    WHEN 'the studio''s engine is older than this bot and can''t take this order yet (the operator must upgrade it)' THEN 'engine_outdated'
    WHEN 'the studio''s engine took too long' THEN 'timed_out'
    WHEN 'something went wrong in the studio''s engine' THEN 'unknown'
    WHEN 'the reference photos are gone' THEN 'references_gone'
    WHEN 'the engine lost the job several times' THEN 'lost_several_times'
    WHEN 'the engine made no portraits' THEN 'no_portraits'
    WHEN 'stopped by a moderator' THEN 'stopped_by_moderator'
    WHEN 'the account is suspended' THEN 'account_suspended'
    WHEN 'the portrait is gone' THEN 'portrait_gone'
    WHEN 'removed by a moderator' THEN 'removed_by_moderator'
    WHEN 'That portrait was removed.' THEN 'portrait_removed'
    ELSE (CASE
        WHEN error LIKE 'I withheld this copy of #%: it did not pass the safety check.' THEN 'copy_withheld'
        WHEN error LIKE 'I can''t make an avatar of portrait #%: it doesn''t carry this studio''s AI labels, and I only make avatars of portraits I painted.%' THEN '{"code": "avatar_refused", "problem": "not_a_portrait"}'
        WHEN error LIKE 'I can''t make an avatar of portrait #%: I couldn''t read the picture.%' THEN '{"code": "avatar_refused", "problem": "unreadable"}'
        WHEN error LIKE 'I can''t make an avatar of portrait #%: I can''t find a face in it to centre an avatar on.%' THEN '{"code": "avatar_refused", "problem": "no_face"}'
        WHEN error LIKE 'I can''t make an avatar of portrait #%: I see more than one face in it, so I don''t know whose avatar to make.%' THEN '{"code": "avatar_refused", "problem": "several_faces"}'
        WHEN error LIKE 'I can''t make an avatar of portrait #%: the face is too close to the edge: a round avatar would cut it off.%' THEN '{"code": "avatar_refused", "problem": "face_at_edge"}'
        WHEN error LIKE 'I can''t make an avatar of portrait #%: the face fills too much of the picture to fit inside a round avatar.%' THEN '{"code": "avatar_refused", "problem": "face_too_large"}'
        WHEN error LIKE 'I can''t make an avatar of portrait #%: the face is too small in it for a sharp avatar.%' THEN '{"code": "avatar_refused", "problem": "too_small"}'
        WHEN error LIKE 'I can''t make an avatar of portrait #%' THEN '{"code": "avatar_refused", "problem": ""}'
        WHEN error IN ('bad_request', 'bad_image', 'prompt_too_long', 'refused_prompt', 'identity_mismatch', 'protected', 'withheld', 'not_available', 'not_ready', 'out_of_memory', 'dropped', 'internal', 'lost', 'bad_result', 'engine_outdated', 'timed_out', 'unknown', 'references_gone', 'lost_several_times', 'no_portraits', 'stopped_by_moderator', 'removed_by_moderator', 'account_suspended', 'portrait_gone', 'portrait_removed', 'copy_withheld', 'avatar_refused') THEN error
        ELSE 'unknown' END)
END
WHERE error IS NOT NULL;

UPDATE order_looks SET error = CASE error
    WHEN 'the studio''s engine could not read the order' THEN 'bad_request'
    WHEN 'the image could not be read or processed' THEN 'bad_image'
    WHEN 'the description is too long for this model' || char(59) || ' shorten your own answers (attire, setting, lighting, composition) and order again' THEN 'prompt_too_long'
    WHEN 'the studio''s content check read your answers as nude, sexual or about a minor, so nothing was painted' || char(59) || ' Sitter makes portraits of adults in clothes that are fine to show anyone: change your answers and order again' THEN 'refused_prompt'
    WHEN 'your photos were measured with a different face model than the studio uses now' || char(59) || ' send them again with /photos' THEN 'identity_mismatch'
    WHEN 'a reference photo shows a face that is protected (its owner asked not to have it used), so nothing was painted' || char(59) || ' /photos to send others' THEN 'protected'
    WHEN 'it did not pass the safety check' THEN 'withheld'
    WHEN 'the studio can''t do this right now' THEN 'not_available'
    WHEN 'the studio''s engine was still starting up' THEN 'not_ready'
    WHEN 'the studio''s engine ran out of memory' THEN 'out_of_memory'
    WHEN 'the job was stopped' THEN 'dropped'
    WHEN 'the studio''s engine hit an unexpected error' THEN 'internal'
    WHEN 'the studio''s engine lost the job' THEN 'lost'
    WHEN 'the studio''s engine sent an answer I could not read' THEN 'bad_result'
    WHEN 'the studio''s engine is older than this bot and can''t take this order yet (the operator must upgrade it)' THEN 'engine_outdated'
    WHEN 'the studio''s engine took too long' THEN 'timed_out'
    WHEN 'something went wrong in the studio''s engine' THEN 'unknown'
    WHEN 'the reference photos are gone' THEN 'references_gone'
    WHEN 'the engine lost the job several times' THEN 'lost_several_times'
    WHEN 'the engine made no portraits' THEN 'no_portraits'
    WHEN 'stopped by a moderator' THEN 'stopped_by_moderator'
    WHEN 'the account is suspended' THEN 'account_suspended'
    WHEN 'the portrait is gone' THEN 'portrait_gone'
    WHEN 'removed by a moderator' THEN 'removed_by_moderator'
    WHEN 'That portrait was removed.' THEN 'portrait_removed'
    ELSE (CASE
        WHEN error LIKE 'I withheld this copy of #%: it did not pass the safety check.' THEN 'copy_withheld'
        WHEN error LIKE 'I can''t make an avatar of portrait #%: it doesn''t carry this studio''s AI labels, and I only make avatars of portraits I painted.%' THEN '{"code": "avatar_refused", "problem": "not_a_portrait"}'
        WHEN error LIKE 'I can''t make an avatar of portrait #%: I couldn''t read the picture.%' THEN '{"code": "avatar_refused", "problem": "unreadable"}'
        WHEN error LIKE 'I can''t make an avatar of portrait #%: I can''t find a face in it to centre an avatar on.%' THEN '{"code": "avatar_refused", "problem": "no_face"}'
        WHEN error LIKE 'I can''t make an avatar of portrait #%: I see more than one face in it, so I don''t know whose avatar to make.%' THEN '{"code": "avatar_refused", "problem": "several_faces"}'
        WHEN error LIKE 'I can''t make an avatar of portrait #%: the face is too close to the edge: a round avatar would cut it off.%' THEN '{"code": "avatar_refused", "problem": "face_at_edge"}'
        WHEN error LIKE 'I can''t make an avatar of portrait #%: the face fills too much of the picture to fit inside a round avatar.%' THEN '{"code": "avatar_refused", "problem": "face_too_large"}'
        WHEN error LIKE 'I can''t make an avatar of portrait #%: the face is too small in it for a sharp avatar.%' THEN '{"code": "avatar_refused", "problem": "too_small"}'
        WHEN error LIKE 'I can''t make an avatar of portrait #%' THEN '{"code": "avatar_refused", "problem": ""}'
        WHEN error IN ('bad_request', 'bad_image', 'prompt_too_long', 'refused_prompt', 'identity_mismatch', 'protected', 'withheld', 'not_available', 'not_ready', 'out_of_memory', 'dropped', 'internal', 'lost', 'bad_result', 'engine_outdated', 'timed_out', 'unknown', 'references_gone', 'lost_several_times', 'no_portraits', 'stopped_by_moderator', 'removed_by_moderator', 'account_suspended', 'portrait_gone', 'portrait_removed', 'copy_withheld', 'avatar_refused') THEN error
        ELSE 'unknown' END)
END
WHERE error IS NOT NULL;

UPDATE variation_jobs SET error = CASE error
    WHEN 'the studio''s engine could not read the order' THEN 'bad_request'
    WHEN 'the image could not be read or processed' THEN 'bad_image'
    WHEN 'the description is too long for this model' || char(59) || ' shorten your own answers (attire, setting, lighting, composition) and order again' THEN 'prompt_too_long'
    WHEN 'the studio''s content check read your answers as nude, sexual or about a minor, so nothing was painted' || char(59) || ' Sitter makes portraits of adults in clothes that are fine to show anyone: change your answers and order again' THEN 'refused_prompt'
    WHEN 'your photos were measured with a different face model than the studio uses now' || char(59) || ' send them again with /photos' THEN 'identity_mismatch'
    WHEN 'a reference photo shows a face that is protected (its owner asked not to have it used), so nothing was painted' || char(59) || ' /photos to send others' THEN 'protected'
    WHEN 'it did not pass the safety check' THEN 'withheld'
    WHEN 'the studio can''t do this right now' THEN 'not_available'
    WHEN 'the studio''s engine was still starting up' THEN 'not_ready'
    WHEN 'the studio''s engine ran out of memory' THEN 'out_of_memory'
    WHEN 'the job was stopped' THEN 'dropped'
    WHEN 'the studio''s engine hit an unexpected error' THEN 'internal'
    WHEN 'the studio''s engine lost the job' THEN 'lost'
    WHEN 'the studio''s engine sent an answer I could not read' THEN 'bad_result'
    WHEN 'the studio''s engine is older than this bot and can''t take this order yet (the operator must upgrade it)' THEN 'engine_outdated'
    WHEN 'the studio''s engine took too long' THEN 'timed_out'
    WHEN 'something went wrong in the studio''s engine' THEN 'unknown'
    WHEN 'the reference photos are gone' THEN 'references_gone'
    WHEN 'the engine lost the job several times' THEN 'lost_several_times'
    WHEN 'the engine made no portraits' THEN 'no_portraits'
    WHEN 'stopped by a moderator' THEN 'stopped_by_moderator'
    WHEN 'the account is suspended' THEN 'account_suspended'
    WHEN 'the portrait is gone' THEN 'portrait_gone'
    WHEN 'removed by a moderator' THEN 'removed_by_moderator'
    WHEN 'That portrait was removed.' THEN 'portrait_removed'
    ELSE (CASE
        WHEN error LIKE 'I withheld this copy of #%: it did not pass the safety check.' THEN 'copy_withheld'
        WHEN error LIKE 'I can''t make an avatar of portrait #%: it doesn''t carry this studio''s AI labels, and I only make avatars of portraits I painted.%' THEN '{"code": "avatar_refused", "problem": "not_a_portrait"}'
        WHEN error LIKE 'I can''t make an avatar of portrait #%: I couldn''t read the picture.%' THEN '{"code": "avatar_refused", "problem": "unreadable"}'
        WHEN error LIKE 'I can''t make an avatar of portrait #%: I can''t find a face in it to centre an avatar on.%' THEN '{"code": "avatar_refused", "problem": "no_face"}'
        WHEN error LIKE 'I can''t make an avatar of portrait #%: I see more than one face in it, so I don''t know whose avatar to make.%' THEN '{"code": "avatar_refused", "problem": "several_faces"}'
        WHEN error LIKE 'I can''t make an avatar of portrait #%: the face is too close to the edge: a round avatar would cut it off.%' THEN '{"code": "avatar_refused", "problem": "face_at_edge"}'
        WHEN error LIKE 'I can''t make an avatar of portrait #%: the face fills too much of the picture to fit inside a round avatar.%' THEN '{"code": "avatar_refused", "problem": "face_too_large"}'
        WHEN error LIKE 'I can''t make an avatar of portrait #%: the face is too small in it for a sharp avatar.%' THEN '{"code": "avatar_refused", "problem": "too_small"}'
        WHEN error LIKE 'I can''t make an avatar of portrait #%' THEN '{"code": "avatar_refused", "problem": ""}'
        WHEN error IN ('bad_request', 'bad_image', 'prompt_too_long', 'refused_prompt', 'identity_mismatch', 'protected', 'withheld', 'not_available', 'not_ready', 'out_of_memory', 'dropped', 'internal', 'lost', 'bad_result', 'engine_outdated', 'timed_out', 'unknown', 'references_gone', 'lost_several_times', 'no_portraits', 'stopped_by_moderator', 'removed_by_moderator', 'account_suspended', 'portrait_gone', 'portrait_removed', 'copy_withheld', 'avatar_refused') THEN error
        ELSE 'unknown' END)
END
WHERE error IS NOT NULL;
