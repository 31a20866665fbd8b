-- Reduced-precision model variants (galaxy model add --precision bf16): each prediction records
-- the arithmetic its model's convolutions ran in, read from the model's validated metadata.
alter table galaxy.predictions add column precision text not null default 'fp32';
comment on column galaxy.predictions.precision is 'Arithmetic of the model''s convolutions when it scored: fp32, or bf16 for a checked reduced-precision variant';
