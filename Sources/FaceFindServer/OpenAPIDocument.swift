/// The OpenAPI 3.1 description of every route, served at `/openapi.yaml`. Written by hand next to the routes;
/// `OpenAPITests` checks that its paths and methods are exactly the router's, and that its schemas name exactly
/// the fields the server encodes, so the two cannot drift apart silently.
enum OpenAPIDocument {
    /// A request body's raw-image alternatives: every type the server decodes, each a binary string.
    static let rawImageContent = (UploadRequest.imageTypes + ["application/octet-stream"])
        .map { "          \($0):\n            schema:\n              type: string\n              format: binary" }
        .joined(separator: "\n")

    static let yaml = #"""
openapi: 3.1.0
info:
  title: FaceFind
  version: 0.1.0
  description: |
    Search a gallery of photos by face. Send a photo to /v1/search and get back the faces found in it and,
    for the chosen face, the gallery photos ranked by similarity. Scores are cosine similarities (higher is
    closer) or euclidean distances (lower is closer); results that do not pass the threshold are flagged
    `unknown`.

    Write endpoints need the API key given at start, as `X-API-Key: KEY` or `Authorization: Bearer KEY`.
    Read endpoints need it too when the server runs with --protect-reads.

    Every error is JSON: {"error": {"status": 400, "code": "not_an_image", "message": "..."}}.
    Inference runs on a bounded queue; when it is full the answer is 503 with Retry-After.
servers:
  - url: /
security:
  - apiKey: []
  - bearer: []
paths:
  /:
    get:
      summary: The web page (search by photo, browse and add to the gallery).
      security: []
      responses:
        "200":
          description: HTML page.
          content:
            text/html: {}
  /app.js:
    get:
      summary: The page's script.
      security: []
      responses:
        "200":
          description: JavaScript.
          content:
            text/javascript: {}
  /app.css:
    get:
      summary: The page's style sheet.
      security: []
      responses:
        "200":
          description: CSS.
          content:
            text/css: {}
  /openapi.yaml:
    get:
      summary: This document.
      security: []
      responses:
        "200":
          description: OpenAPI 3.1 YAML.
          content:
            application/yaml: {}
  /metrics:
    get:
      summary: Prometheus metrics (requests, latencies by stage, queue depth, memory).
      description: Needs the API key when the server runs with --protect-reads.
      responses:
        "200":
          description: Prometheus text exposition format.
          content:
            text/plain: {}
        "401":
          $ref: "#/components/responses/Unauthorized"
  /v1/health:
    get:
      summary: Liveness, gallery size and queue state.
      security: []
      responses:
        "200":
          description: Serving.
          content:
            application/json:
              schema:
                $ref: "#/components/schemas/Health"
  /v1/models:
    get:
      summary: The pipeline the gallery was built with, and the model catalog.
      responses:
        "200":
          description: Models.
          content:
            application/json:
              schema:
                $ref: "#/components/schemas/Models"
        "401":
          $ref: "#/components/responses/Unauthorized"
  /v1/search:
    post:
      summary: Find the faces in a photo and rank the gallery images for one of them.
      description: |
        Send the photo as multipart/form-data (field `image`; a file in any other field is refused with 400
        `unexpected_file_field`; the other parameters may be form fields too) or as the raw body (one of the
        image types below, or application/octet-stream) with parameters in the query string. The body must
        arrive within the server's deadline and minimum rate, else 408 and the connection is closed.
      parameters:
        - $ref: "#/components/parameters/K"
        - $ref: "#/components/parameters/Metric"
        - $ref: "#/components/parameters/Face"
        - $ref: "#/components/parameters/Threshold"
        - $ref: "#/components/parameters/Filename"
      requestBody:
        required: true
        content:
          multipart/form-data:
            schema:
              type: object
              required: [image]
              properties:
                image:
                  type: string
                  format: binary
                k:
                  type: integer
                metric:
                  type: string
                face:
                  type: string
                threshold:
                  type: number
\#(rawImageContent)
      responses:
        "200":
          description: Faces of the query and ranked results.
          content:
            application/json:
              schema:
                $ref: "#/components/schemas/SearchResult"
        "400":
          $ref: "#/components/responses/BadRequest"
        "401":
          $ref: "#/components/responses/Unauthorized"
        "408":
          $ref: "#/components/responses/RequestTimeout"
        "413":
          $ref: "#/components/responses/TooLarge"
        "415":
          $ref: "#/components/responses/UnsupportedMediaType"
        "503":
          $ref: "#/components/responses/Overloaded"
  /v1/verify:
    post:
      summary: Are two photos the same person? (1:1 verification)
      description: |
        Two photos as multipart/form-data fields named `image`, or one photo and the `id` of a gallery image (form
        field or query parameter). The chosen face of each (`face`: largest, center, score, prominent; `all`
        compares every pair of faces and keeps the closest) is compared by cosine similarity; `samePerson` is
        the decision at `threshold` (default: the server's cosine threshold, by default the embedder's
        calibrated one, which 1 in 1,000 different-person pairs of lfw-dev passes).
      parameters:
        - $ref: "#/components/parameters/Face"
        - $ref: "#/components/parameters/Threshold"
        - name: id
          in: query
          description: A gallery image to compare the photo with, instead of a second photo.
          schema:
            type: integer
      requestBody:
        required: true
        content:
          multipart/form-data:
            schema:
              type: object
              required: [image]
              properties:
                image:
                  type: array
                  items:
                    type: string
                    format: binary
                  minItems: 1
                  maxItems: 2
                id:
                  type: integer
                face:
                  type: string
                threshold:
                  type: number
      responses:
        "200":
          description: The similarity and the decision.
          content:
            application/json:
              schema:
                $ref: "#/components/schemas/Verification"
        "400":
          $ref: "#/components/responses/BadRequest"
        "401":
          $ref: "#/components/responses/Unauthorized"
        "404":
          $ref: "#/components/responses/NotFound"
        "408":
          $ref: "#/components/responses/RequestTimeout"
        "413":
          $ref: "#/components/responses/TooLarge"
        "415":
          $ref: "#/components/responses/UnsupportedMediaType"
        "503":
          $ref: "#/components/responses/Overloaded"
  /v1/embed:
    post:
      summary: Every face of a photo with its box, landmarks, score and embedding.
      description: |
        The photo as multipart/form-data (field `image`) or as the raw body, as for search. Embeddings come from
        the gallery's embedder (`embedder`), so they compare with the gallery's vectors. At most the server's
        `--max-faces` faces (default 20; a photo with more answers 413 `too_many_faces`); these requests run on
        at most half of the inference workers, so that searches always find one.
      parameters:
        - $ref: "#/components/parameters/Filename"
      requestBody:
        required: true
        content:
          multipart/form-data:
            schema:
              type: object
              required: [image]
              properties:
                image:
                  type: string
                  format: binary
\#(rawImageContent)
      responses:
        "200":
          description: The faces and their embeddings.
          content:
            application/json:
              schema:
                $ref: "#/components/schemas/Embedded"
        "400":
          $ref: "#/components/responses/BadRequest"
        "401":
          $ref: "#/components/responses/Unauthorized"
        "408":
          $ref: "#/components/responses/RequestTimeout"
        "413":
          $ref: "#/components/responses/TooLarge"
        "415":
          $ref: "#/components/responses/UnsupportedMediaType"
        "503":
          $ref: "#/components/responses/Overloaded"
  /v1/gallery:
    get:
      summary: One page of the gallery, in id order.
      parameters:
        - name: offset
          in: query
          schema:
            type: integer
            minimum: 0
            default: 0
        - name: limit
          in: query
          schema:
            type: integer
            minimum: 1
            maximum: 200
            default: 24
      responses:
        "200":
          description: A page of images.
          content:
            application/json:
              schema:
                $ref: "#/components/schemas/GalleryPage"
        "400":
          $ref: "#/components/responses/BadRequest"
        "401":
          $ref: "#/components/responses/Unauthorized"
    post:
      summary: Add photos or videos to the gallery (all or none).
      description: |
        multipart/form-data with one or more `image` file fields (at most 32) and an optional `name` text field,
        the person shown (stored as the photos' label); or one photo as the raw body with `name` and `filename`
        in the query string. A field may hold a video (MP4, QuickTime, Matroska, WebM or AVI, told by its first
        bytes, within the body size limit): its faces are found in sampled frames as `facefind index` finds them,
        and searches report the times. Files are saved in the server's uploads folder and indexed like
        `facefind index` does. If any file is not a usable image or video, nothing is added.
      parameters:
        - name: name
          in: query
          description: The person shown; becomes the label of the added photos.
          schema:
            type: string
        - $ref: "#/components/parameters/Filename"
      requestBody:
        required: true
        content:
          multipart/form-data:
            schema:
              type: object
              required: [image]
              properties:
                image:
                  type: array
                  items:
                    type: string
                    format: binary
                name:
                  type: string
\#(rawImageContent)
      responses:
        "201":
          description: The added images.
          content:
            application/json:
              schema:
                $ref: "#/components/schemas/Added"
        "400":
          $ref: "#/components/responses/BadRequest"
        "401":
          $ref: "#/components/responses/Unauthorized"
        "408":
          $ref: "#/components/responses/RequestTimeout"
        "413":
          $ref: "#/components/responses/TooLarge"
        "415":
          $ref: "#/components/responses/UnsupportedMediaType"
        "503":
          $ref: "#/components/responses/Overloaded"
  /v1/gallery/{id}:
    parameters:
      - $ref: "#/components/parameters/Id"
    get:
      summary: One gallery image with its faces.
      responses:
        "200":
          description: The image.
          content:
            application/json:
              schema:
                $ref: "#/components/schemas/Image"
        "400":
          $ref: "#/components/responses/BadRequest"
        "401":
          $ref: "#/components/responses/Unauthorized"
        "404":
          $ref: "#/components/responses/NotFound"
    delete:
      summary: Remove an image from the gallery (and its file, when it was uploaded).
      responses:
        "200":
          description: Removed.
          content:
            application/json:
              schema:
                $ref: "#/components/schemas/Deleted"
        "400":
          $ref: "#/components/responses/BadRequest"
        "401":
          $ref: "#/components/responses/Unauthorized"
        "404":
          $ref: "#/components/responses/NotFound"
        "500":
          description: The uploaded photo's file cannot be removed (code `file_not_removed`, with the reason); the
            image stays in the gallery.
          content:
            application/json:
              schema:
                $ref: "#/components/schemas/Error"
  /v1/gallery/{id}/thumbnail:
    parameters:
      - $ref: "#/components/parameters/Id"
    get:
      summary: A JPEG thumbnail of a gallery image (no boxes drawn; use the face boxes to draw them).
      parameters:
        - name: size
          in: query
          description: Longest side in pixels.
          schema:
            type: integer
            minimum: 16
            maximum: 1024
            default: 256
        - name: t
          in: query
          description: For a video, the frame at this time, in milliseconds (a result's thumbnail URL sets it to
            the matched frame); ignored for photos.
          schema:
            type: integer
            minimum: 0
            maximum: 86400000
            default: 0
      responses:
        "200":
          description: JPEG, with an ETag; revalidate with If-None-Match.
          content:
            image/jpeg: {}
        "304":
          description: Not modified.
        "400":
          $ref: "#/components/responses/BadRequest"
        "401":
          $ref: "#/components/responses/Unauthorized"
        "404":
          $ref: "#/components/responses/NotFound"
  /v1/people:
    get:
      summary: The persons `facefind people cluster` made, largest first, each with a representative face.
      parameters:
        - name: hidden
          in: query
          description: Also list hidden persons.
          schema:
            type: boolean
            default: false
      responses:
        "200":
          description: The persons.
          content:
            application/json:
              schema:
                type: array
                items:
                  $ref: "#/components/schemas/Person"
        "401":
          $ref: "#/components/responses/Unauthorized"
  /v1/people/{id}:
    parameters:
      - $ref: "#/components/parameters/Id"
    get:
      summary: One person with all its faces.
      responses:
        "200":
          description: The person.
          content:
            application/json:
              schema:
                $ref: "#/components/schemas/Person"
        "401":
          $ref: "#/components/responses/Unauthorized"
        "404":
          $ref: "#/components/responses/NotFound"
    patch:
      summary: Rename a person (its faces are then pinned to it) and/or hide it.
      parameters:
        - name: name
          in: query
          description: The new name; empty removes the name.
          schema:
            type: string
        - name: hidden
          in: query
          schema:
            type: boolean
      responses:
        "200":
          description: The person after the change.
          content:
            application/json:
              schema:
                $ref: "#/components/schemas/Person"
        "400":
          $ref: "#/components/responses/BadRequest"
        "401":
          $ref: "#/components/responses/Unauthorized"
        "404":
          $ref: "#/components/responses/NotFound"
        "409":
          description: Another person has that name (code `name_taken`); merge the two instead.
          content:
            application/json:
              schema:
                $ref: "#/components/schemas/Error"
  /v1/people/{id}/merge:
    parameters:
      - $ref: "#/components/parameters/Id"
    post:
      summary: Move every face of person `from` to this person (pinned) and delete `from`.
      parameters:
        - name: from
          in: query
          required: true
          schema:
            type: integer
            minimum: 1
      responses:
        "200":
          description: The person after the merge.
          content:
            application/json:
              schema:
                $ref: "#/components/schemas/Person"
        "400":
          $ref: "#/components/responses/BadRequest"
        "401":
          $ref: "#/components/responses/Unauthorized"
        "404":
          $ref: "#/components/responses/NotFound"
components:
  securitySchemes:
    apiKey:
      type: apiKey
      in: header
      name: X-API-Key
    bearer:
      type: http
      scheme: bearer
  parameters:
    Id:
      name: id
      in: path
      required: true
      schema:
        type: integer
        minimum: 1
    K:
      name: k
      in: query
      description: How many gallery images to return.
      schema:
        type: integer
        minimum: 1
        maximum: 100
        default: 10
    Metric:
      name: metric
      in: query
      schema:
        type: string
        enum: [cosine, euclidean]
        default: cosine
    Face:
      name: face
      in: query
      description: Which face of the query to search with, a policy or a face number (index in `faces`). Only the chosen faces are embedded; `all` embeds every face, at most the server's `--max-faces` (default 20; 413 `too_many_faces` beyond) and runs on at most half of the inference workers.
      schema:
        type: string
        default: largest
        examples: [largest, center, score, prominent, all, "0", "2"]
    Threshold:
      name: threshold
      in: query
      description: Score below which (cosine) or distance above which (euclidean) a result is `unknown`. Defaults to the server's, by default the embedder's measured threshold (FaceNet-512 cosine 0.505, euclidean 0.995).
      schema:
        type: number
    Filename:
      name: filename
      in: query
      description: Name of a photo sent as the raw body.
      schema:
        type: string
  responses:
    BadRequest:
      description: Not an image (the reason says why), or a bad parameter.
      content:
        application/json:
          schema:
            $ref: "#/components/schemas/Error"
    Unauthorized:
      description: The API key is missing or wrong.
      content:
        application/json:
          schema:
            $ref: "#/components/schemas/Error"
    NotFound:
      description: No such image or endpoint.
      content:
        application/json:
          schema:
            $ref: "#/components/schemas/Error"
    RequestTimeout:
      description: The request body did not arrive within the deadline, or came slower than the minimum rate;
        the connection is closed.
      content:
        application/json:
          schema:
            $ref: "#/components/schemas/Error"
    TooLarge:
      description: The body is over the size limit, the image over the pixel limit, or (code `too_many_faces`) more faces asked for than the server embeds for one photo (`face=all`, `/v1/embed`; `serve --max-faces`, default 20).
      content:
        application/json:
          schema:
            $ref: "#/components/schemas/Error"
    UnsupportedMediaType:
      description: The body is neither multipart/form-data nor an image type.
      content:
        application/json:
          schema:
            $ref: "#/components/schemas/Error"
    Overloaded:
      description: The inference queue is full (or the server is shutting down); retry after Retry-After seconds.
      headers:
        Retry-After:
          schema:
            type: integer
      content:
        application/json:
          schema:
            $ref: "#/components/schemas/Error"
  schemas:
    Error:
      type: object
      required: [error]
      properties:
        error:
          $ref: "#/components/schemas/ErrorDetail"
    ErrorDetail:
      type: object
      required: [status, code, message]
      properties:
        status:
          type: integer
        code:
          type: string
          description: Stable, for programs (not_an_image, bad_parameter, unauthorized, not_found, too_large, unsupported_media_type, overloaded, ...).
        message:
          type: string
          description: What was wrong, for people.
    Box:
      type: object
      description: A rectangle in the pixels of its photo.
      required: [x, y, width, height]
      properties:
        x:
          type: number
        y:
          type: number
        width:
          type: number
        height:
          type: number
    Point:
      type: object
      required: [x, y]
      properties:
        x:
          type: number
        y:
          type: number
    Face:
      type: object
      required: [index, box, score, wholeImage]
      properties:
        index:
          type: integer
          description: Position in the photo's face list; what `face=` takes.
        box:
          $ref: "#/components/schemas/Box"
        landmarks:
          type: array
          description: Eyes, nose tip and mouth corners, when the detector gives them.
          items:
            $ref: "#/components/schemas/Point"
        score:
          type: number
          description: Detector confidence; 0 for the whole-image stand-in.
        wholeImage:
          type: boolean
          description: No face was found; the whole photo stood in for one.
    Result:
      type: object
      required: [rank, id, path, name, label, score, unknown, box, faceId, wholeImage, queryFace, width, height, thumbnail]
      properties:
        rank:
          type: integer
        id:
          type: integer
        path:
          type: string
          description: Relative to the gallery (`uploads/<name>/<file>` for uploads, else relative to the folder
            holding every indexed photo); absolute only when the server runs with --expose-paths.
        name:
          type: string
        label:
          type: string
          description: The folder of the photo; for uploads, the name given.
        score:
          type: number
        unknown:
          type: boolean
          description: The score does not pass the threshold.
        box:
          $ref: "#/components/schemas/Box"
        faceId:
          type: integer
        wholeImage:
          type: boolean
        queryFace:
          type: integer
          description: The face of the query that matched.
        width:
          type: integer
        height:
          type: integer
        thumbnail:
          type: string
          description: For a video, the matched frame.
        time:
          $ref: "#/components/schemas/FaceTime"
        appearances:
          type: array
          description: For a video, where the query's person is on screen, each range with the frame of its best
            face (none when the match is unknown).
          items:
            $ref: "#/components/schemas/FaceTime"
    FaceTime:
      type: object
      description: For a face of a video (only there), in seconds from the start.
      required: [start, end, frame]
      properties:
        start:
          type: number
          description: The track begins after the last sampled frame without the face, or at its shot's start.
        end:
          type: number
          description: The track ends before the first sampled frame without the face, or at the next cut.
        frame:
          type: number
          description: The frame the face was taken from.
    Verification:
      type: object
      required: [first, second, embedder, similarity, threshold, samePerson]
      properties:
        first:
          $ref: "#/components/schemas/VerifiedPhoto"
        second:
          $ref: "#/components/schemas/VerifiedPhoto"
        embedder:
          type: string
        similarity:
          type: number
          description: Cosine similarity of the compared faces' embeddings.
        threshold:
          type: number
        falseAcceptRate:
          type: number
          description: Share of different-person pairs passing the threshold where it was calibrated; absent for a threshold set by the request or the operator.
        samePerson:
          type: boolean
    Embedded:
      type: object
      required: [name, width, height, embedder, faces]
      properties:
        name:
          type: string
        width:
          type: integer
        height:
          type: integer
        embedder:
          type: string
        faces:
          type: array
          items:
            $ref: "#/components/schemas/EmbeddedFace"
    EmbeddedFace:
      type: object
      required: [face, embedding]
      properties:
        face:
          $ref: "#/components/schemas/Face"
        embedding:
          type: array
          items:
            type: number
    VerifiedPhoto:
      type: object
      required: [name, width, height, faces, chosenFace]
      properties:
        name:
          type: string
          description: The upload's file name, or the gallery image's path relative to the gallery.
        width:
          type: integer
        height:
          type: integer
        faces:
          type: array
          items:
            $ref: "#/components/schemas/Face"
        chosenFace:
          type: integer
          description: Index in `faces` of the face compared.
    SearchResult:
      type: object
      required: [query, faces, chosenFaces, metric, k, threshold, unknown, results, timings]
      properties:
        query:
          $ref: "#/components/schemas/Query"
        faces:
          type: array
          items:
            $ref: "#/components/schemas/Face"
        chosenFaces:
          type: array
          items:
            type: integer
        metric:
          type: string
          enum: [cosine, euclidean]
        k:
          type: integer
        threshold:
          type: number
        unknown:
          type: boolean
          description: No result passes the threshold; the person is not in the gallery.
        results:
          type: array
          items:
            $ref: "#/components/schemas/Result"
        timings:
          $ref: "#/components/schemas/Timings"
    Query:
      type: object
      required: [name, width, height]
      properties:
        name:
          type: string
        width:
          type: integer
        height:
          type: integer
    Timings:
      type: object
      required: [queueMs, decodeMs, detectEmbedMs, searchMs]
      properties:
        queueMs:
          type: number
        decodeMs:
          type: number
        detectEmbedMs:
          type: number
        searchMs:
          type: number
    Image:
      type: object
      required: [id, path, name, label, sha256, bytes, width, height, faceCount, thumbnail]
      properties:
        id:
          type: integer
        path:
          type: string
          description: Relative to the gallery (`uploads/<name>/<file>` for uploads, else relative to the folder
            holding every indexed photo); absolute only when the server runs with --expose-paths.
        name:
          type: string
        label:
          type: string
        sha256:
          type: string
        bytes:
          type: integer
        width:
          type: integer
        height:
          type: integer
        faceCount:
          type: integer
        error:
          type: string
          description: Why the image could not be indexed; absent when it was.
        thumbnail:
          type: string
        faces:
          type: array
          description: Only in GET /v1/gallery/{id}.
          items:
            $ref: "#/components/schemas/Face"
    GalleryPage:
      type: object
      required: [images, offset, limit, total]
      properties:
        images:
          type: array
          items:
            $ref: "#/components/schemas/Image"
        offset:
          type: integer
        limit:
          type: integer
        total:
          type: integer
        nextOffset:
          type: integer
          description: Absent on the last page.
    Added:
      type: object
      required: [added, joinedPersons]
      properties:
        added:
          type: array
          items:
            $ref: "#/components/schemas/Image"
        joinedPersons:
          type: integer
          description: |
            New faces that joined an existing person (those close enough to the person's faces, as
            `facefind index` joins them); the others wait for the next `facefind people cluster`. 0 when the
            gallery has no persons yet.
    Deleted:
      type: object
      required: [deleted]
      properties:
        deleted:
          type: integer
    QueueStats:
      type: object
      required: [workers, capacity, running, waiting]
      properties:
        workers:
          type: integer
        capacity:
          type: integer
        running:
          type: integer
        waiting:
          type: integer
    Queues:
      type: object
      required: [inference, storage]
      properties:
        inference:
          $ref: "#/components/schemas/QueueStats"
        storage:
          $ref: "#/components/schemas/QueueStats"
    Health:
      type: object
      required: [status, version, images, faces, uptimeSeconds, queues]
      properties:
        status:
          type: string
          enum: [ok]
        version:
          type: string
        images:
          type: integer
        faces:
          type: integer
        uptimeSeconds:
          type: number
        queues:
          $ref: "#/components/schemas/Queues"
    IndexSettings:
      type: object
      required: [detector, detectorSHA256, embedder, embedderSHA256, crop, normalization, dimension, maxSide, minSide, augmentation, minFaceSize]
      properties:
        detector:
          type: string
        detectorSHA256:
          type: string
        embedder:
          type: string
        embedderSHA256:
          type: string
        crop:
          type: string
        normalization:
          type: string
        dimension:
          type: integer
        maxSide:
          type: integer
        minSide:
          type: integer
          description: Smaller photos are enlarged to this longer side for detection (0 never).
        augmentation:
          type: string
          description: '"none", "flip" (each face also embedded mirrored, the two averaged) or "flip-concat" (the two concatenated).'
        minFaceSize:
          type: integer
          description: Faces narrower than this were not stored (except each photo's largest).
    Model:
      type: object
      required: [name, task, license, installed, inUse, summary]
      properties:
        name:
          type: string
        task:
          type: string
          enum: [detector, embedder]
        license:
          type: string
        installed:
          type: boolean
        inUse:
          type: boolean
        summary:
          type: string
    Models:
      type: object
      required: [index, onnxRuntime, models]
      properties:
        index:
          $ref: "#/components/schemas/IndexSettings"
        onnxRuntime:
          type: string
        models:
          type: array
          items:
            $ref: "#/components/schemas/Model"
    Person:
      type: object
      required: [id, hidden, faceCount, photoCount]
      properties:
        id:
          type: integer
        name:
          type: string
        hidden:
          type: boolean
        faceCount:
          type: integer
        photoCount:
          type: integer
        representative:
          $ref: "#/components/schemas/PersonFace"
        faces:
          type: array
          description: Only in GET /v1/people/{id}.
          items:
            $ref: "#/components/schemas/PersonFace"
    PersonFace:
      type: object
      required: [faceId, imageId, path, box, pinned, width, height, thumbnail]
      properties:
        faceId:
          type: integer
        imageId:
          type: integer
        path:
          type: string
        box:
          $ref: "#/components/schemas/Box"
        pinned:
          type: boolean
          description: Put there by a user (named, merged, split); the next clustering keeps it there.
        width:
          type: integer
          description: The photo's width in pixels (what box is in).
        height:
          type: integer
        thumbnail:
          type: string
"""#
}
