-- Data quality per batch: rows kept, quarantined (by reason) and warned, per dataset.
-- batch_quality's batch_id partition uses Athena's injected projection, which requires the
-- batch ids to be listed in the query; `musicstream query` fills :batch_ids from the lake
-- with the batches run in the period (a batch id starts with its UTC run time).
-- Warning codes (SPEC §2) count rows that were kept anyway.
-- params: :batch_ids
with source as (
    select
        batch_id,
        dataset,
        reason,
        "rows"
    from batch_quality
    where batch_id in (:batch_ids)
),

final as (
    select
        batch_id,
        dataset,
        case
            when reason = 'kept' then 'kept'
            when reason in ('listen_before_signup') then 'warning'
            else 'quarantined'
        end as outcome,
        reason,
        "rows"
    from source
)

select * from final
order by batch_id, dataset, outcome, reason
