{{- define "postgresql.fullname" -}}
{{- default .Release.Name .Values.fullname | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "postgresql.labels" -}}
{{- $labels := merge (dict) .Values.labels .Values.selectorLabels -}}
{{- toYaml $labels -}}
{{- end -}}
