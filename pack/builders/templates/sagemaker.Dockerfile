# SageMaker runs `docker run IMAGE serve` with the model unpacked into ${model_dir}, as root, and
# sends SIGKILL 30 s after SIGTERM: in-flight requests get 25 s to drain.
FROM ${base_image}
ENV PATH=${venv}/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    SAGEMAKER_BIND_TO_PORT=${port} \
    PACK_SERVE_DRAIN_TIMEOUT=25 \
    PACK_SAGEMAKER_MODEL=${serve_model}
EXPOSE ${port}
HEALTHCHECK --interval=10s --timeout=3s --start-period=120s --retries=3 CMD ${healthcheck}
ENTRYPOINT ${entrypoint}
COPY sagemaker_serve.py /opt/pack/sagemaker_serve.py
COPY --from=deps ${venv} ${venv}
COPY --from=pack ${app} ${app}
${policy}LABEL ${labels}
