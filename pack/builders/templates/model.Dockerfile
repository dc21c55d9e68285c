FROM ${base_image}
RUN groupadd --gid ${uid} pack \
 && useradd --uid ${uid} --gid ${uid} --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin pack
COPY --from=deps ${venv} ${venv}
COPY --from=pack ${app} ${app}
ENV PATH=${venv}/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HOME=/tmp \
    PACK_SERVE_HOST=0.0.0.0 \
    PACK_SERVE_PORT=${port} \
    PACK_SERVE_ACCELERATE=${accelerate}
USER ${uid}:${uid}
EXPOSE ${port}
HEALTHCHECK --interval=10s --timeout=3s --start-period=120s --retries=3 CMD ${healthcheck}
# The model comes last: a new version of the same model rebuilds only from here.
COPY model/ ${model_dir}/
${policy}ENTRYPOINT ${entrypoint}
LABEL ${labels}
