FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
# Static files are collected at build time; a placeholder key is enough for that step only.
RUN SECRET_KEY=build-only ALLOWED_HOSTS=build python manage.py collectstatic --no-input
RUN useradd --create-home hub && mkdir -p /app/media && chown hub /app/media
USER hub
EXPOSE 8000
CMD ["gunicorn", "config.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
