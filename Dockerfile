# tf2kro as a container:
#   docker run --rm --user "$(id -u):$(id -g)" -v "$PWD:/work" tf2kro convert --state terraform.tfstate --out out
# (--user: files written to the mounted directory belong to you; without it the image runs as uid 10001)
# Build: docker build -t tf2kro .
#
# Two stages: the wheel is built in the first (needs the whole source tree), only the wheel and its dependencies
# reach the runtime image. The tool runs as an unprivileged user; /work is the working directory to mount.

FROM python:3.12-slim AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY converter ./converter
COPY mappings ./mappings
COPY samples/estate ./samples/estate
RUN python -m pip wheel --no-deps --wheel-dir /dist .

FROM python:3.12-slim
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1 PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
COPY --from=build /dist /dist
RUN python -m pip install /dist/*.whl \
    && rm -rf /dist \
    && useradd --create-home --uid 10001 --shell /usr/sbin/nologin tf2kro
USER 10001:10001
WORKDIR /work
ENTRYPOINT ["tf2kro"]
CMD ["--help"]
